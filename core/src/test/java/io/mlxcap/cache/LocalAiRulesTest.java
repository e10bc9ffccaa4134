package io.mlxcap.cache;

import static io.mlxcap.cache.Timeline.DEFAULT;
import static io.mlxcap.cache.Timeline.FAST;
import static io.mlxcap.cache.Timeline.HUGE;
import static io.mlxcap.cache.Timeline.REASONING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Waiting;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * LocalAI's loader and watchdog rules, each worked by hand from {@code pkg/model} at
 * mudler/LocalAI@82c191a: {@code initializers.go} ({@code Load}, {@code enforceLRULimit},
 * {@code retryEnforce}) and {@code watchdog.go} ({@code EnforceLRULimit},
 * {@code collectEvictionsLocked}, {@code finishRequestLocked}, {@code checkIdle},
 * {@code evictLRUModel}). The policy is what {@code --policy localai} reads from
 * {@code LOCALAI_MAX_ACTIVE_BACKENDS=N} and the default 30 tries a second apart.
 */
final class LocalAiRulesTest {
  private static final Duration TRIES = Duration.ofSeconds(29);
  private Timeline t;

  @AfterEach
  void checkValidState() {
    CacheTesting.checkValidState(t.cache);
  }

  private static CachePolicy localAi(int maxActive, VictimOrder order, Set<String> pinned) {
    return new CachePolicy(maxActive, CachePolicy.UNLIMITED_BYTES, CachePolicy.NO_IDLE_TTL,
        CachePolicy.NO_PRESSURE_THRESHOLD, order, UnsetKeepAlive.RESETS, ManualLoads.EVICTABLE, ModelGroups.NONE,
        Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS).withBackends(pinned, TRIES);
  }

  /**
   * EnforceLRULimit sorts by {@code lastUsed}, oldest first; finishRequestLocked sets {@code lastUsed}
   * when a request ends, so the end of a request is a use (unlike llama.cpp's router).
   */
  @Test
  void theLeastRecentlyUsed_goesFirst_andTheEndOfARequestIsAUse() {
    t = new Timeline(localAi(2, VictimOrder.LEAST_RECENTLY_USED, Set.of()));
    t.request(1, FAST);
    t.loaded(FAST);
    t.advance(Duration.ofSeconds(1)).serve(2, DEFAULT);
    t.advance(Duration.ofSeconds(1)).release(1); // FAST's request started first but ended last
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.advance(Duration.ofSeconds(1)).serve(3, REASONING)));
  }

  /** LOCALAI_SIZE_AWARE_EVICTION: largest first ("int(b.sizeBytes - a.sizeBytes)"), then oldest lastUsed. */
  @Test
  void sizeAware_takesTheLargestFirst() {
    t = new Timeline(localAi(2, VictimOrder.LARGEST_FIRST, Set.of()));
    t.serve(1, REASONING);
    t.advance(Duration.ofSeconds(1)).serve(2, FAST);
    assertEquals(List.of(REASONING), Timeline.evicted(t.advance(Duration.ofSeconds(1)).serve(3, DEFAULT)));
    assertEquals(List.of(FAST, DEFAULT), t.cached());
  }

  /**
   * collectEvictionsLocked skips a pinned model without counting it as busy, so NeedMore is false and
   * the loader goes on at once: a pinned model takes a slot and the load goes past the limit.
   */
  @Test
  void aPinnedModel_isNeverEvicted_andTheLoadGoesPastTheLimitAtOnce() {
    t = new Timeline(localAi(1, VictimOrder.LEAST_RECENTLY_USED, Set.of(FAST)));
    t.serve(1, FAST);
    List<CacheEvent> events = t.advance(Duration.ofSeconds(1)).serve(2, DEFAULT);
    assertEquals(List.of(), Timeline.evicted(events));
    assertTrue(events.stream().anyMatch(e -> e instanceof LoadStarted s && s.model().equals(DEFAULT)), events::toString);
    assertEquals(List.of(FAST, DEFAULT), t.cached());
    // The next load evicts down to the limit again, the pinned model aside: count 2 + 1 - limit 1 = 2 to go, 1 can.
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.advance(Duration.ofSeconds(1)).serve(3, REASONING)));
  }

  /** A busy model in the way: NeedMore is true and retryEnforce tries again; once it is released it goes. */
  @Test
  void aBusyModel_makesTheLoadWait_untilItIsReleased() {
    t = new Timeline(localAi(1, VictimOrder.LEAST_RECENTLY_USED, Set.of()));
    t.request(1, FAST);
    t.loaded(FAST);
    List<CacheEvent> waited = t.advance(Duration.ofSeconds(1)).request(2, DEFAULT);
    assertEquals(List.of(new Waiting(2, DEFAULT, CacheEvent.WaitReason.ALL_MODELS_BUSY)), waited);
    t.advance(Duration.ofSeconds(10));
    assertEquals(List.of(), Timeline.evicted(t.tick()));
    List<CacheEvent> released = t.release(1);
    assertEquals(List.of(FAST), Timeline.evicted(released));
    assertTrue(released.stream().anyMatch(e -> e instanceof LoadStarted s && s.model().equals(DEFAULT)), released::toString);
  }

  /**
   * After the last of LRU_EVICTION_MAX_RETRIES tries ("enforcement incomplete after max retries") the
   * loader loads anyway: past the limit, 29 s after the first try with the defaults. No cleanup trims
   * the surplus; the next load evicts down to the limit (count + pending + 1 - limit).
   */
  @Test
  void afterTheLastTry_theLoadGoesPastTheLimit_andTheSurplusWaitsForTheNextLoad() {
    t = new Timeline(localAi(1, VictimOrder.LEAST_RECENTLY_USED, Set.of()));
    t.request(1, FAST);
    t.loaded(FAST);
    t.request(2, DEFAULT);
    t.advance(TRIES.minusMillis(1));
    assertEquals(List.of(), t.tick());
    t.advance(Duration.ofMillis(1));
    List<CacheEvent> past = t.tick();
    assertTrue(past.stream().anyMatch(e -> e instanceof LoadStarted s && s.model().equals(DEFAULT)), past::toString);
    t.loaded(DEFAULT);
    t.release(1);
    t.release(2);
    assertEquals(List.of(), Timeline.evicted(t.advance(Duration.ofMinutes(5)).tick()));
    assertEquals(List.of(FAST, DEFAULT), t.cached());
    assertEquals(List.of(FAST, DEFAULT), Timeline.evicted(t.serve(3, HUGE)));
  }

  /** checkIdle and evictLRUModel skip pinned models; the reclaimer takes the least recently used idle one. */
  @Test
  void theIdleWatchdogAndTheReclaimer_leavePinnedModels() {
    CachePolicy p = localAi(CachePolicy.UNLIMITED_MODELS, VictimOrder.LEAST_RECENTLY_USED, Set.of(FAST))
        .withIdleTtl(Duration.ofMinutes(15)).withPressureThreshold(0.95);
    t = new Timeline(p);
    t.serve(1, FAST);
    t.advance(Duration.ofSeconds(1)).serve(2, DEFAULT);
    t.advance(Duration.ofSeconds(1)).serve(3, REASONING);
    long total = 100 * Timeline.GB;
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.cache.memoryObserved(96 * Timeline.GB, total, t.now())));
    assertEquals(List.of(REASONING), Timeline.evicted(t.advance(Duration.ofMinutes(16)).tick()));
    assertEquals(List.of(FAST), t.cached());
  }
}
