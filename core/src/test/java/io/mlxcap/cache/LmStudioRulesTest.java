package io.mlxcap.cache;

import static io.mlxcap.cache.Timeline.DEFAULT;
import static io.mlxcap.cache.Timeline.FAST;
import static io.mlxcap.cache.Timeline.REASONING;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * LM Studio's just-in-time rules, worked by hand from its documentation (LM Studio is not open source):
 * lmstudio.ai/docs/api/ttl-and-auto-evict (LM Studio 0.3.9 and later). Auto-Evict "unloads previously
 * JIT loaded models before loading new ones", so at most one model loaded on demand stays: a cap of
 * one on those; the idle TTL of models loaded on demand is 60 min unless the request's {@code ttl}
 * says otherwise; a model loaded with {@code lms load} (the preload list here) is exempt from both.
 */
final class LmStudioRulesTest {
  private static final long MINUTE = 60_000_000_000L;
  private static final CachePolicy LM_STUDIO = new CachePolicy(1, CachePolicy.UNLIMITED_BYTES, Duration.ofMinutes(60),
      CachePolicy.NO_PRESSURE_THRESHOLD, VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.STAYS, ManualLoads.KEPT);
  private Timeline t;

  @AfterEach
  void checkValidState() {
    CacheTesting.checkValidState(t.cache);
  }



  /** Auto-Evict: a second model loaded on demand unloads the first before it loads. */
  @Test
  void autoEvict_keepsOneModelLoadedOnDemand() {
    t = new Timeline(LM_STUDIO);
    t.serve(1, FAST);
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(2, DEFAULT)));
    assertEquals(List.of(DEFAULT), t.cached());
  }

  /** A model loaded with {@code lms load} is not a JIT model: Auto-Evict leaves it and does not count it. */
  @Test
  void aManuallyLoadedModel_isNeitherEvictedNorCounted() {
    t = new Timeline(LM_STUDIO);
    t.preload(REASONING);
    t.serve(1, FAST); // the one JIT model beside the manual one
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(2, DEFAULT)));
    assertEquals(List.of(REASONING, DEFAULT), t.cached());
  }

  /** The 60 min default TTL unloads an idle JIT model and leaves the manually loaded one, idle as long. */
  @Test
  void theDefaultTtl_appliesToJitModelsOnly() {
    t = new Timeline(LM_STUDIO);
    t.preload(REASONING);
    t.serve(1, FAST);
    t.advance(Duration.ofMinutes(59));
    assertEquals(List.of(), Timeline.evicted(t.tick()));
    t.advance(Duration.ofMinutes(1));
    assertEquals(List.of(FAST), Timeline.evicted(t.tick()));
    assertEquals(List.of(REASONING), t.cached());
  }

  /**
   * A request's {@code ttl} sets its model's, and a later request that gives none leaves it (mlxcap's
   * reading: the docs say the field sets the TTL, and nothing of a request without it).
   */
  @Test
  void aRequestTtl_setsTheModelsTtl_andARequestWithoutOneLeavesIt() {
    t = new Timeline(LM_STUDIO);
    t.serve(1, FAST, 5 * MINUTE);
    t.serve(2, FAST); // no ttl field
    t.advance(Duration.ofMinutes(5));
    assertEquals(List.of(FAST), Timeline.evicted(t.tick()));
  }

  /** With Auto-Evict off there is no cap: models loaded on demand pile up until their TTL. */
  @Test
  void autoEvictOff_letsJitModelsPileUp() {
    t = new Timeline(LM_STUDIO.withMaxModels(CachePolicy.UNLIMITED_MODELS));
    t.serve(1, FAST);
    assertEquals(List.of(), Timeline.evicted(t.serve(2, DEFAULT)));
    assertEquals(List.of(), Timeline.evicted(t.serve(3, REASONING)));
    assertEquals(3, t.cached().size());
  }

  /** Only the operator removes a manual load: an unload by hand does. */
  @Test
  void aManualUnload_removesAManuallyLoadedModel() {
    t = new Timeline(LM_STUDIO);
    t.preload(REASONING);
    assertEquals(List.of(REASONING), Timeline.evicted(t.cache.unload(REASONING, t.now())));
  }
}
