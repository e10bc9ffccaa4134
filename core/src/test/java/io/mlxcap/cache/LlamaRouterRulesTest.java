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
 * llama.cpp's router rule that differs from LRU, on timelines worked by hand from
 * {@code tools/server/server-models.cpp} at ggml-org/llama.cpp@00dd0816129a5210351c78bb90e0828f8eb69f99.
 * {@code unload_lru()} takes, among the running models, the one whose {@code meta.last_used} is
 * smallest ({@code if (m.second.meta.last_used < lru_last_used)}); {@code load()} sets it when the
 * child is spawned ({@code inst.meta.last_used = ggml_time_ms()}) and {@code proxy_request()} when a
 * request is handed to the model ({@code mapping[name].meta.last_used = ggml_time_ms()}), which for a
 * cold model is after {@code ensure_model_ready()} has waited for the load. A cap of two stands for
 * {@code --models-max 2}.
 */
final class LlamaRouterRulesTest {
  private static final long MINUTE = 60_000_000_000L;
  private static final CachePolicy ROUTER = new CachePolicy(2, CachePolicy.UNLIMITED_BYTES, CachePolicy.NO_IDLE_TTL,
      CachePolicy.NO_PRESSURE_THRESHOLD, VictimOrder.LEAST_RECENTLY_STARTED, UnsetKeepAlive.RESETS, ManualLoads.EVICTABLE);
  private Timeline t;

  @AfterEach
  void checkValidState() {
    CacheTesting.checkValidState(t.cache);
  }


  /** Two long and short requests overlapping: request 1 on DEFAULT from 0 to 3 min, request 2 on FAST from 1 to 2 min. */
  private void overlap() {
    t.request(1, DEFAULT);
    t.loaded(DEFAULT);
    t.advance(Duration.ofMinutes(1));
    t.request(2, FAST);
    t.loaded(FAST);
    t.advance(Duration.ofMinutes(1));
    t.release(2);
    t.advance(Duration.ofMinutes(1));
    t.release(1);
  }

  /**
   * The end of a request is not a use: nothing in {@code server-models.cpp} writes {@code last_used}
   * when a proxied request finishes. DEFAULT started first, so it goes, though it finished last.
   */
  @Test
  void theVictim_isTheModelWhoseLatestRequestStartedFirst_notTheOneFinishedFirst() {
    t = new Timeline(ROUTER);
    overlap();
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.serve(3, REASONING)));
    assertEquals(List.of(FAST, REASONING), t.cached());
  }

  /** Under LRU the same two requests evict FAST, released first: the difference is the order alone. */
  @Test
  void underLru_theSameRequestsEvictTheModelReleasedFirst() {
    t = new Timeline(ROUTER.withRules(VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.RESETS, ManualLoads.EVICTABLE));
    overlap();
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(3, REASONING)));
  }

  /**
   * A request that waits for its model's load is handed to it when the load ends
   * ({@code proxy_request} runs after {@code ensure_model_ready}), and that is its model's last use:
   * DEFAULT's load began first (0 min) but its request started on it last (2 min), so FAST (1 min) goes.
   */
  @Test
  void aRequestThatWaitedForItsLoad_startsWhenTheLoadEnds() {
    t = new Timeline(ROUTER);
    t.request(1, DEFAULT); // its load starts at 0
    t.advance(Duration.ofMinutes(1));
    t.serve(2, FAST); // loads, serves and ends at 1 min
    t.advance(Duration.ofMinutes(1));
    t.loaded(DEFAULT); // request 1 is handed to DEFAULT at 2 min
    t.release(1);
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(3, REASONING)));
  }

  /**
   * {@code unload_lru} walks the models in the order of its {@code std::map} (by name) and keeps the
   * first strictly smaller time, so of two models last started at the same moment the name that sorts
   * first goes: "phi3.5…" before "qwen2.5…", although DEFAULT was touched first.
   */
  @Test
  void equalStartTimes_goInNameOrder() {
    t = new Timeline(ROUTER);
    t.serve(1, DEFAULT);
    t.serve(2, FAST);
    t.advance(Duration.ofMinutes(5));
    t.request(3, DEFAULT);
    t.request(4, FAST);
    t.release(3);
    t.release(4);
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(5, REASONING)));
  }

  /** {@code if (base_params.models_max <= 0) return;}: no cap, nothing goes. */
  @Test
  void noCap_unloadsNothing() {
    t = new Timeline(ROUTER.withMaxModels(CachePolicy.UNLIMITED_MODELS));
    overlap();
    assertEquals(List.of(), Timeline.evicted(t.serve(3, REASONING)));
    assertEquals(3, t.cached().size());
  }

  /**
   * {@code --sleep-idle-seconds 300} frees an idle child's model after five minutes, as mlxcap's idle
   * TTL does (the sleeping child keeps its slot under {@code --models-max}; mlxcap frees the slot too:
   * a difference README states).
   */
  @Test
  void sleepIdle_isAnIdleTtlCountedFromTheLastUse() {
    t = new Timeline(ROUTER.withIdleTtl(Duration.ofSeconds(300)));
    t.serve(1, FAST);
    t.advance(Duration.ofSeconds(299));
    assertEquals(List.of(), Timeline.evicted(t.tick()));
    t.advance(Duration.ofSeconds(1));
    assertEquals(List.of(FAST), Timeline.evicted(t.tick()));
  }
}
