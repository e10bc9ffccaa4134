package io.mlxcap.cache;

import static io.mlxcap.cache.Timeline.DEFAULT;
import static io.mlxcap.cache.Timeline.FAST;
import static io.mlxcap.cache.Timeline.GB;
import static io.mlxcap.cache.Timeline.HUGE;
import static io.mlxcap.cache.Timeline.REASONING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Hit;
import io.mlxcap.cache.CacheEvent.Joined;
import io.mlxcap.cache.CacheEvent.LoadFailed;
import io.mlxcap.cache.CacheEvent.LoadFinished;
import io.mlxcap.cache.CacheEvent.LoadSkipped;
import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Ready;
import io.mlxcap.cache.CacheEvent.RejectReason;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CacheEvent.SkipReason;
import io.mlxcap.cache.CacheEvent.UnloadRefused;
import io.mlxcap.cache.CacheEvent.WaitReason;
import io.mlxcap.cache.CacheEvent.Waiting;
import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Timeline tests of the cache core on a fake clock: every setting, the seed's story and the corner cases. */
final class LruModelCacheTest {
  private static final long NONE = CacheEvent.NO_REQUEST;
  private Timeline t;

  private Timeline timeline(CachePolicy policy) {
    t = new Timeline(policy);
    return t;
  }

  private static CachePolicy policy(String... env) {
    Map<String, String> map = new java.util.HashMap<>();
    for (int i = 0; i < env.length; i += 2) {
      map.put(env[i], env[i + 1]);
    }
    return Settings.fromEnv(map, ModelTable.defaults()).cache();
  }

  @AfterEach
  void checkValidState() {
    if (t != null) {
      CacheTesting.checkValidState(t.cache);
    }
  }

  // ---- a request's path ----

  @Test
  void request_cold_loadsThenReady() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    assertEquals(List.of(new LoadStarted(DEFAULT, 22_500_000_000L, LoadCause.REQUEST, 1)), t.request(1, DEFAULT));
    assertEquals(List.of(DEFAULT), t.cached());
    assertEquals(0, t.cache.residentBytes(), "a loading model is not resident yet");
    assertEquals(List.of(new LoadFinished(DEFAULT, 21 * GB), new Ready(1, DEFAULT)),
        t.cache.loadSucceeded(DEFAULT, 21 * GB, t.now()));
    assertEquals(21 * GB, t.cache.residentBytes(), "reported bytes replace the estimate");
    assertEquals(1, t.cache.cached().get(0).pins());
    assertEquals(List.of(), t.release(1));
    assertEquals(0, t.cache.cached().get(0).pins());
  }

  @Test
  void request_resident_hit() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.serve(1, FAST);
    assertEquals(List.of(new Hit(2, FAST)), t.request(2, FAST));
  }

  @Test
  void request_whileLoading_joinsTheOneLoad() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.request(1, REASONING);
    assertEquals(List.of(new Joined(2, REASONING)), t.request(2, REASONING));
    assertEquals(List.of(new Joined(3, REASONING)), t.request(3, REASONING));
    assertEquals(3, t.cache.cached().get(0).pins());
    assertEquals(List.of(new LoadFinished(REASONING, t.expected(REASONING)),
            new Ready(1, REASONING), new Ready(2, REASONING), new Ready(3, REASONING)),
        t.loaded(REASONING));
  }

  @Test
  void release_ofAJoinerBeforeTheLoadEnds_dropsItFromTheLoad() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.request(1, DEFAULT);
    t.request(2, DEFAULT);
    t.release(2);
    assertEquals(List.of(new LoadFinished(DEFAULT, t.expected(DEFAULT)), new Ready(1, DEFAULT)), t.loaded(DEFAULT));
    assertEquals(1, t.cache.cached().get(0).pins());
  }

  @Test
  void loadFailed_leavesNoResidue_andTheNextRequestRetries() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.request(1, DEFAULT);
    t.request(2, DEFAULT);
    assertEquals(List.of(new LoadFailed(DEFAULT, "corrupt weights"),
            new Rejected(1, DEFAULT, RejectReason.LOAD_FAILED, "corrupt weights"),
            new Rejected(2, DEFAULT, RejectReason.LOAD_FAILED, "corrupt weights")),
        t.cache.loadFailed(DEFAULT, "corrupt weights", t.now()));
    assertEquals(List.of(), t.cached());
    assertThrows(IllegalStateException.class, () -> t.release(1), "a rejected request holds nothing");
    assertEquals(List.of(new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.REQUEST, 3)), t.request(3, DEFAULT));
  }

  @Test
  void shellMistakes_failLoudly() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.request(1, FAST);
    assertThrows(IllegalStateException.class, () -> t.request(1, FAST), "request id reused while active");
    assertThrows(IllegalStateException.class, () -> t.release(99));
    assertThrows(IllegalStateException.class, () -> t.loaded(DEFAULT), "no such load");
    assertThrows(IllegalArgumentException.class, () -> t.cache.loadSucceeded(FAST, 0, t.now()));
    t.advance(Duration.ofSeconds(1)).tick();
    assertThrows(IllegalArgumentException.class, () -> t.cache.tick(t.now() - 1), "time went backwards");
  }

  // ---- MLX_MAX_CACHED_MODELS: the seed's story ----

  @Test
  void cap2_thirdModel_evictsLruBeforeLoading() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.serve(1, FAST);
    t.advance(Duration.ofSeconds(10)).serve(2, DEFAULT);
    t.advance(Duration.ofSeconds(10)).serve(3, FAST);
    assertEquals(List.of(
            new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.MAX_MODELS),
            new LoadStarted(REASONING, t.expected(REASONING), LoadCause.REQUEST, 4)),
        t.advance(Duration.ofSeconds(10)).request(4, REASONING),
        "default was used less recently than fast, so it goes, and before the load starts");
    assertEquals(List.of(FAST, REASONING), t.cached());
  }

  @Test
  void cap1_everyOtherModelIsACold() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.serve(1, FAST);
    List<CacheEvent> events = t.serve(2, DEFAULT);
    assertEquals(new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS), events.get(0));
    assertEquals(List.of(DEFAULT), t.cached());
  }

  @Test
  void cap_busyModelsAreNeverEvicted_theRequestWaits() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1", "MLX_MAX_CONCURRENT_REQUESTS", "2"));
    t.request(1, FAST);
    t.loaded(FAST);
    assertEquals(List.of(new Waiting(2, DEFAULT, WaitReason.ALL_MODELS_BUSY)), t.request(2, DEFAULT));
    assertEquals(List.of(FAST), t.cached(), "never overshoot, never evict a busy model");
    assertEquals(1, t.cache.waitingRequests());
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.REQUEST, 2)),
        t.release(1));
    assertEquals(0, t.cache.waitingRequests());
  }

  @Test
  void cap_loadingModelsAreNotVictims() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.request(1, FAST);
    t.release(1);
    assertEquals(List.of(new Waiting(2, DEFAULT, WaitReason.ALL_MODELS_BUSY)), t.request(2, DEFAULT),
        "fast is loading with nobody waiting on it; it still cannot be evicted mid-load");
    assertEquals(List.of(new LoadFinished(FAST, t.expected(FAST)),
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.REQUEST, 2)),
        t.loaded(FAST));
  }

  @Test
  void waiting_requestsNeedingNoRoom_passWaiters_thoseNeedingRoomQueue() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "2"));
    t.request(1, FAST);
    t.request(2, DEFAULT);
    assertEquals(List.of(new Waiting(3, REASONING, WaitReason.ALL_MODELS_BUSY)), t.request(3, REASONING));
    assertEquals(List.of(new Waiting(4, HUGE, WaitReason.BEHIND_WAITING)), t.request(4, HUGE),
        "a request needing room queues behind the one already waiting");
    assertEquals(List.of(new LoadFinished(FAST, t.expected(FAST)), new Ready(1, FAST)), t.loaded(FAST));
    assertEquals(List.of(new Hit(5, FAST)), t.request(5, FAST), "a request needing no room does not wait");
    t.loaded(DEFAULT);
    assertEquals(List.of(
            new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.MAX_MODELS),
            new LoadStarted(REASONING, t.expected(REASONING), LoadCause.REQUEST, 3)),
        t.release(2), "the first waiter gets the freed slot; the second still waits");
    assertEquals(1, t.cache.waitingRequests());
    assertEquals(List.of(), t.release(1), "fast is still used by request 5");
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(HUGE, t.expected(HUGE), LoadCause.REQUEST, 4)),
        t.release(5));
  }

  @Test
  void waiting_servedInArrivalOrder_aLargeModelIsNotStarved() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.request(1, FAST);
    t.loaded(FAST);
    t.request(2, HUGE);
    t.request(3, DEFAULT);
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(HUGE, t.expected(HUGE), LoadCause.REQUEST, 2)),
        t.release(1));
    assertEquals(1, t.cache.waitingRequests());
    t.loaded(HUGE);
    assertEquals(List.of(
            new Evicted(HUGE, t.expected(HUGE), EvictionReason.MAX_MODELS),
            new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.REQUEST, 3)),
        t.release(2));
  }

  @Test
  void waiting_whenTheModelTurnsUpLoading_joins() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.request(1, FAST);
    t.loaded(FAST);
    t.request(2, DEFAULT);
    t.request(3, DEFAULT);
    List<CacheEvent> events = t.release(1);
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.REQUEST, 2),
            new Joined(3, DEFAULT)),
        events, "one load for both waiters");
  }

  @Test
  void waiting_abandoned_releasesNothingElse() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.request(1, FAST);
    t.request(2, DEFAULT);
    assertEquals(List.of(), t.release(2), "a client gone while waiting for room");
    assertEquals(0, t.cache.waitingRequests());
    assertEquals(List.of(new LoadFinished(FAST, t.expected(FAST)), new Ready(1, FAST)), t.loaded(FAST));
  }

  // The cache reuses the records of released requests and evicted models: one that left while waiting
  // must not make the next request a waiter, and an evicted model's record must come back as new.
  @Test
  void recordsReused_afterAnAbandonedWait_andAnEviction_behaveAsNew() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.request(1, FAST);
    t.request(2, DEFAULT);
    t.release(2); // left while waiting: its record is kept for reuse
    t.loaded(FAST);
    assertEquals(List.of(new Hit(3, FAST)), t.request(3, FAST), "a plain hit");
    t.release(3);
    t.release(1);
    List<CacheEvent> events = t.request(4, DEFAULT);
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
        new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.REQUEST, 4)), events,
        "fast was unpinned by both releases, so it goes");
    assertEquals(List.of(new LoadFinished(DEFAULT, t.expected(DEFAULT)), new Ready(4, DEFAULT)), t.loaded(DEFAULT),
        "the reused model record waits for its own request only");
  }

  @Test
  void cap_off_isTheServerBeforeTheFix() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "off"));
    for (String model : List.of(FAST, DEFAULT, REASONING, HUGE)) {
      t.serve(t.now() + 1, model);
      t.advance(Duration.ofSeconds(1));
    }
    assertEquals(List.of(FAST, DEFAULT, REASONING, HUGE), t.cached());
    assertEquals(135_250_000_000L, t.cache.residentBytes());
  }

  // ---- MLX_CACHE_CLEANUP_INTERVAL_SEC and MLX_PRELOAD_MODELS ----

  @Test
  void preload_default_isFastOnly() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    Settings defaults = Settings.defaults(t.table);
    assertEquals(List.of(new LoadStarted(FAST, t.expected(FAST), LoadCause.PRELOAD, NONE)),
        t.cache.preload(defaults.preloadModels(), t.now()));
    assertEquals(List.of(new Joined(1, FAST)), t.request(1, FAST), "a request during preload joins it");
  }

  @Test
  void preload_pastTheCap_cleanupEvery600s_trimsTheSurplusByLru() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.preload(DEFAULT, FAST);
    assertEquals(List.of(DEFAULT, FAST), t.cached(), "the operator asked for both");
    t.advance(Duration.ofSeconds(300)).serve(1, DEFAULT);
    assertEquals(List.of(FAST, DEFAULT), t.cached());
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.CLEANUP)),
        t.advance(Duration.ofSeconds(300)).tick(), "the tick at 600 s trims the least recently used");
    assertEquals(List.of(), t.advance(Duration.ofSeconds(600)).tick(), "under the cap the trim has nothing to do");
  }

  @Test
  void preload_pastTheCap_nextLoadEvictsTheSurplusFirst() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.preload(DEFAULT, FAST);
    assertEquals(List.of(
            new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.MAX_MODELS),
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(REASONING, t.expected(REASONING), LoadCause.REQUEST, 1)),
        t.request(1, REASONING));
  }

  @Test
  void preload_alreadyCachedOrOverBudget_isSkipped() {
    Timeline t = timeline(policy("MLX_MAX_CACHE_BYTES", "50GB"));
    assertEquals(List.of(
            new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.PRELOAD, NONE),
            new LoadSkipped(DEFAULT, LoadCause.PRELOAD, SkipReason.ALREADY_CACHED),
            new LoadSkipped(HUGE, LoadCause.PRELOAD, SkipReason.TOO_LARGE),
            new LoadSkipped(REASONING, LoadCause.PRELOAD, SkipReason.NO_ROOM),
            new LoadStarted(FAST, t.expected(FAST), LoadCause.PRELOAD, NONE)),
        t.cache.preload(List.of(DEFAULT, DEFAULT, HUGE, REASONING, FAST), t.now()),
        "the 70b would fit alone, but the loading 32b holds 22.5 of the 50 GB");
  }

  @Test
  void cleanup_underTheCap_neverEvicts_theSeedsTrimIsASafetyNet() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.serve(1, FAST);
    t.serve(2, DEFAULT);
    for (int i = 0; i < 24 * 6; i++) {
      assertEquals(List.of(), t.advance(Duration.ofSeconds(600)).tick());
    }
    assertEquals(List.of(FAST, DEFAULT), t.cached(), "a day of ticks: a rarely used 32b still sticks");
  }

  // ---- MLX_MODEL_IDLE_TTL_SEC ----

  @Test
  void idleTtl_tickUnloadsModelsIdleThatLong() {
    Timeline t = timeline(policy("MLX_MODEL_IDLE_TTL_SEC", "900"));
    t.serve(1, FAST);
    t.advance(Duration.ofSeconds(600)).serve(2, DEFAULT);
    assertEquals(List.of(), t.advance(Duration.ofSeconds(299)).tick(), "fast idle 899 s");
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.IDLE_TTL)),
        t.advance(Duration.ofSeconds(1)).tick(), "fast idle 900 s");
    assertEquals(List.of(new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.IDLE_TTL)),
        t.advance(Duration.ofSeconds(600)).tick());
  }

  @Test
  void idleTtl_countsFromTheEndOfUse_andSparesBusyModels() {
    Timeline t = timeline(policy("MLX_MODEL_IDLE_TTL_SEC", "60"));
    t.request(1, REASONING);
    t.loaded(REASONING);
    assertEquals(List.of(), t.advance(Duration.ofSeconds(3600)).tick(), "an hour-long generation is not idle");
    t.release(1);
    assertEquals(List.of(), t.advance(Duration.ofSeconds(59)).tick());
    assertEquals(List.of(new Evicted(REASONING, t.expected(REASONING), EvictionReason.IDLE_TTL)),
        t.advance(Duration.ofSeconds(1)).tick());
  }

  @Test
  void idleTtl_countsFromTheEndOfASlowLoad() {
    Timeline t = timeline(policy("MLX_MODEL_IDLE_TTL_SEC", "60"));
    t.cache.preload(List.of(HUGE), t.now());
    t.advance(Duration.ofSeconds(100)).loaded(HUGE);
    assertEquals(List.of(), t.advance(Duration.ofSeconds(59)).tick(), "loaded 59 s ago, though created 159 s ago");
    assertEquals(List.of(new Evicted(HUGE, t.expected(HUGE), EvictionReason.IDLE_TTL)),
        t.advance(Duration.ofSeconds(1)).tick());
  }

  @Test
  void recency_isTheOrderOfUse_notOfLoadCompletion() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "2"));
    t.cache.preload(List.of(DEFAULT, FAST), t.now());
    t.advance(Duration.ofSeconds(1)).loaded(FAST);
    t.advance(Duration.ofSeconds(10)).loaded(DEFAULT);
    assertEquals(List.of(DEFAULT, FAST), t.cached(), "default was asked for first; finishing last is not a use");
    assertEquals(new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.MAX_MODELS), t.request(1, REASONING).get(0));
  }

  // ---- MLX_MAX_CACHE_BYTES ----

  @Test
  void budget_evictsLruUntilTheNewModelFits() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "off", "MLX_MAX_CACHE_BYTES", "72GB"));
    t.serve(1, FAST);
    t.serve(2, DEFAULT);
    t.serve(3, REASONING);
    assertEquals(List.of(FAST, DEFAULT, REASONING), t.cached(), "70.25 GB fits in 72 GB");
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.BUDGET),
            new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.BUDGET),
            new Evicted(REASONING, t.expected(REASONING), EvictionReason.BUDGET),
            new LoadStarted(HUGE, t.expected(HUGE), LoadCause.REQUEST, 4)),
        t.request(4, HUGE));
  }

  @Test
  void budget_andCap_eachVictimNamesTheLimitItWasEvictedFor() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "3", "MLX_MAX_CACHE_BYTES", "88GB"));
    t.serve(1, REASONING);
    t.serve(2, FAST);
    t.serve(3, DEFAULT);
    assertEquals(List.of(
            new Evicted(REASONING, t.expected(REASONING), EvictionReason.MAX_MODELS),
            new Evicted(FAST, t.expected(FAST), EvictionReason.BUDGET),
            new LoadStarted(HUGE, t.expected(HUGE), LoadCause.REQUEST, 4)),
        t.request(4, HUGE), "3 of 3 slots: the 70b goes for the cap; then 2.75 + 22.5 + 65 > 88 GB, fast goes for bytes");
  }

  @Test
  void budget_modelLargerThanTheBudget_isRejected() {
    Timeline t = timeline(policy("MLX_MAX_CACHE_BYTES", "60GiB"));
    t.serve(1, FAST);
    List<CacheEvent> events = t.request(2, HUGE);
    assertEquals(1, events.size());
    Rejected rejected = (Rejected) events.get(0);
    assertEquals(RejectReason.TOO_LARGE, rejected.reason());
    assertEquals("command-r-plus:104b needs 65.0 GB, more than the whole MLX_MAX_CACHE_BYTES budget of 64.4 GB",
        rejected.detail());
    assertEquals(List.of(FAST), t.cached(), "nothing was evicted for a load that can never happen");
    assertThrows(IllegalStateException.class, () -> t.release(2), "a rejected request holds nothing");
  }

  @Test
  void budget_heldByBusyModels_theRequestWaits() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "off", "MLX_MAX_CACHE_BYTES", "50GB"));
    t.request(1, DEFAULT);
    assertEquals(List.of(new Waiting(2, REASONING, WaitReason.BUDGET_BUSY)), t.request(2, REASONING));
    t.loaded(DEFAULT);
    assertEquals(List.of(
            new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.BUDGET),
            new LoadStarted(REASONING, t.expected(REASONING), LoadCause.REQUEST, 2)),
        t.release(1));
  }

  @Test
  void budget_loadLargerThanItsEstimate_evictsIdleModels_orWaitsForThem() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "off", "MLX_MAX_CACHE_BYTES", "30GB"));
    t.serve(1, FAST);
    t.request(2, DEFAULT);
    assertEquals(List.of(
            new LoadFinished(DEFAULT, 28 * GB), new Ready(2, DEFAULT),
            new Evicted(FAST, t.expected(FAST), EvictionReason.BUDGET)),
        t.cache.loadSucceeded(DEFAULT, 28 * GB, t.now()), "28 + 2.75 > 30 GB: the idle fast goes");

    Timeline u = timeline(policy("MLX_MAX_CACHED_MODELS", "off", "MLX_MAX_CACHE_BYTES", "30GB"));
    u.request(1, FAST);
    u.loaded(FAST);
    u.request(2, DEFAULT);
    assertEquals(List.of(new LoadFinished(DEFAULT, 28 * GB), new Ready(2, DEFAULT)),
        u.cache.loadSucceeded(DEFAULT, 28 * GB, u.now()), "fast is busy: over budget until it is released");
    assertEquals(List.of(new Evicted(FAST, u.expected(FAST), EvictionReason.BUDGET)), u.release(1));
  }

  // ---- MLX_MEMORY_PRESSURE_THRESHOLD: the seed's legacy rule and its bug ----

  @Test
  void seedBug_pressureRuleAlone_on128GbHost_32b70b3_8bStayForGood() {
    long host = 128L << 30;
    long otherUse = 8 * GB;
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "off", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "600"));
    t.preload(DEFAULT, FAST);
    t.advance(Duration.ofMinutes(30)).serve(1, REASONING);
    for (int minute = 0; minute < 3 * 24 * 60; minute += 10) {
      t.advance(Duration.ofMinutes(10));
      assertEquals(List.of(), t.tick());
      assertEquals(List.of(), t.cache.memoryObserved(otherUse + t.cache.residentBytes(), host, t.now()));
    }
    assertEquals(List.of(DEFAULT, FAST, REASONING), t.cached(), "three days later, all three are still resident");
    assertEquals(70_250_000_000L, t.cache.residentBytes());
    assertTrue((otherUse + t.cache.residentBytes()) / (double) host < 0.95, "never near the 95 % line");
  }

  @Test
  void pressure_aboveTheLine_evictsLruIdleUntilUnder() {
    long host = 128L << 30;
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "off"));
    t.serve(1, FAST);
    t.serve(2, DEFAULT);
    t.serve(3, REASONING);
    t.request(4, HUGE);
    t.loaded(HUGE);
    long used = 4 * GB + t.cache.residentBytes();
    assertTrue(used > 0.95 * host);
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.PRESSURE),
            new Evicted(DEFAULT, t.expected(DEFAULT), EvictionReason.PRESSURE)),
        t.cache.memoryObserved(used, host, t.now()),
        "139.25 GB of 137.4: fast alone frees too little, fast + default bring it under 130.5");
    assertEquals(List.of(), t.cache.memoryObserved(130 * GB, host, t.now()), "130 GB is under the 130.56 GB line");
  }

  @Test
  void pressure_off_neverEvicts() {
    Timeline t = timeline(policy("MLX_MEMORY_PRESSURE_THRESHOLD", "off"));
    t.serve(1, FAST);
    assertEquals(List.of(), t.cache.memoryObserved(99, 100, t.now()));
  }

  // ---- manual load and unload ----

  @Test
  void unload_idle_evicts_busyOrLoading_refused() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.request(1, FAST);
    assertEquals(List.of(new UnloadRefused(FAST, SkipReason.LOADING)), t.cache.unload(FAST, t.now()));
    t.loaded(FAST);
    assertEquals(List.of(new UnloadRefused(FAST, SkipReason.IN_USE)), t.cache.unload(FAST, t.now()));
    t.release(1);
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.MANUAL)), t.cache.unload(FAST, t.now()));
    assertEquals(List.of(new UnloadRefused(FAST, SkipReason.NOT_CACHED)), t.cache.unload(FAST, t.now()));
  }

  @Test
  void load_manual_makesRoomLikeARequest() {
    Timeline t = timeline(policy("MLX_MAX_CACHED_MODELS", "1"));
    t.serve(1, FAST);
    assertEquals(List.of(
            new Evicted(FAST, t.expected(FAST), EvictionReason.MAX_MODELS),
            new LoadStarted(DEFAULT, t.expected(DEFAULT), LoadCause.MANUAL, NONE)),
        t.cache.load(DEFAULT, LoadCause.MANUAL, t.now()));
    assertEquals(List.of(new LoadSkipped(DEFAULT, LoadCause.MANUAL, SkipReason.ALREADY_CACHED)),
        t.cache.load(DEFAULT, LoadCause.MANUAL, t.now()));
    assertEquals(List.of(new LoadSkipped(FAST, LoadCause.MANUAL, SkipReason.NO_ROOM)),
        t.cache.load(FAST, LoadCause.MANUAL, t.now()), "the cap's one slot is loading");
  }

  @Test
  void evictedModel_requestedAgain_isAFreshLoad() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.serve(1, FAST);
    t.cache.unload(FAST, t.now());
    assertEquals(List.of(new LoadStarted(FAST, t.expected(FAST), LoadCause.REQUEST, 2)), t.request(2, FAST));
  }

  @Test
  void request_weigherThrows_leavesNoPhantomRequest() {
    ModelCache cache = ModelCache.create(CachePolicy.seedDefaults(), model -> {
      throw new IllegalStateException("no size for " + model);
    });
    assertThrows(IllegalStateException.class, () -> cache.request(1, FAST, 0));
    assertEquals(0, cache.activeRequests(), "nothing registered for a request whose model could not be weighed");
    assertThrows(IllegalStateException.class, () -> cache.release(1, 0));
  }

  @Test
  void actions_everyKindReachesItsOwnMethod() {
    List<CacheEvent> all = List.of(new Hit(1, FAST), new Joined(2, FAST), new Waiting(3, FAST, WaitReason.ALL_MODELS_BUSY),
        new Ready(4, FAST), new Rejected(5, FAST, RejectReason.TOO_LARGE, "x"),
        new LoadStarted(FAST, 1, LoadCause.REQUEST, 6), new LoadFinished(FAST, 1), new LoadFailed(FAST, "x"),
        new Evicted(FAST, 1, EvictionReason.MANUAL), new LoadSkipped(FAST, LoadCause.MANUAL, SkipReason.NO_ROOM),
        new UnloadRefused(FAST, SkipReason.IN_USE));
    List<String> seen = new java.util.ArrayList<>();
    CacheActions.apply(all, new CacheActions() {
      @Override public void hit(Hit e) { seen.add("hit " + e.requestId()); }
      @Override public void joined(Joined e) { seen.add("joined " + e.requestId()); }
      @Override public void waiting(Waiting e) { seen.add("waiting " + e.requestId()); }
      @Override public void ready(Ready e) { seen.add("ready " + e.requestId()); }
      @Override public void rejected(Rejected e) { seen.add("rejected " + e.requestId()); }
      @Override public void loadStarted(LoadStarted e) { seen.add("loadStarted " + e.requestId()); }
      @Override public void loadFinished(LoadFinished e) { seen.add("loadFinished"); }
      @Override public void loadFailed(LoadFailed e) { seen.add("loadFailed"); }
      @Override public void evicted(Evicted e) { seen.add("evicted"); }
      @Override public void loadSkipped(LoadSkipped e) { seen.add("loadSkipped"); }
      @Override public void unloadRefused(UnloadRefused e) { seen.add("unloadRefused"); }
    });
    assertEquals(List.of("hit 1", "joined 2", "waiting 3", "ready 4", "rejected 5", "loadStarted 6", "loadFinished",
        "loadFailed", "evicted", "loadSkipped", "unloadRefused"), seen);
  }

  // ---- keep-alive (Ollama's keep_alive) ----

  @Test
  void keepAlive_zero_unloadsWhenTheLastUserReleases() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.serve(1, FAST);
    t.cache.request(2, FAST, 0, t.now());
    t.cache.request(3, FAST, 0, t.now());
    assertEquals(List.of(), t.release(2), "still in use by 3");
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.IDLE_TTL)), t.release(3));
  }

  @Test
  void keepAlive_latestRequestWins_andOverridesTheIdleTtl() {
    Timeline t = timeline(policy("MLX_MODEL_IDLE_TTL_SEC", "600", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "30"));
    t.serve(1, FAST);
    t.cache.request(2, FAST, Duration.ofSeconds(60).toNanos(), t.now());
    t.release(2);
    assertEquals(t.now() + Duration.ofSeconds(60).toNanos(), t.cache.cached().get(0).expiresAtNanos());
    assertEquals(List.of(), t.cache.tick(t.now() + Duration.ofSeconds(59).toNanos()));
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.IDLE_TTL)),
        t.cache.tick(t.now() + Duration.ofSeconds(60).toNanos()));
  }

  @Test
  void keepAlive_forever_survivesTheIdleTtl_untilARequestWithoutOneResetsIt() {
    Timeline t = timeline(policy("MLX_MODEL_IDLE_TTL_SEC", "60", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "30"));
    t.cache.request(1, FAST, ModelCache.KEEP_ALIVE_FOREVER, t.now());
    t.loaded(FAST);
    t.release(1);
    assertEquals(Long.MAX_VALUE, t.cache.cached().get(0).expiresAtNanos());
    assertEquals(List.of(), t.cache.tick(t.now() + Duration.ofHours(5).toNanos()));
    long later = t.now() + Duration.ofHours(5).toNanos();
    t.cache.request(2, FAST, later);
    t.cache.release(2, later);
    assertEquals(List.of(new Evicted(FAST, t.expected(FAST), EvictionReason.IDLE_TTL)),
        t.cache.tick(later + Duration.ofSeconds(60).toNanos()), "back to the policy's 60 s");
  }

  @Test
  void keepAlive_zero_onARequestThatLeftDuringTheLoad_unloadsWhenTheLoadEnds() {
    Timeline t = timeline(CachePolicy.seedDefaults());
    t.cache.request(1, FAST, 0, t.now());
    t.release(1);
    assertEquals(List.of(new LoadFinished(FAST, 3 * GB), new Evicted(FAST, 3 * GB, EvictionReason.IDLE_TTL)),
        t.cache.loadSucceeded(FAST, 3 * GB, t.now()));
  }

  @Test
  void keepAlive_negative_isRefused() {
    ModelCache cache = ModelCache.create(CachePolicy.seedDefaults(), m -> GB);
    assertThrows(IllegalArgumentException.class, () -> cache.request(1, FAST, -5, 0));
    assertEquals(0, cache.activeRequests());
  }
}
