package io.mlxcap.cache;

import static io.mlxcap.cache.Timeline.DEFAULT;
import static io.mlxcap.cache.Timeline.FAST;
import static io.mlxcap.cache.Timeline.HUGE;
import static io.mlxcap.cache.Timeline.REASONING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CacheEvent.Waiting;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * llama-swap's rules, on timelines worked by hand from its source at
 * mostlygeek/llama-swap@0bdb3720199f530b622a1934c0db89f32c94819c: {@code groupSwapper.EvictionFor}
 * ({@code internal/router/group.go}), the FIFO scheduler's {@code OnRequest}, {@code drainQueue} and
 * {@code admit} ({@code internal/router/scheduler/fifo.go}), {@code AddDefaultGroupToConfig} and the
 * group defaults ({@code internal/config/config.go}). No count cap, no byte budget.
 */
final class LlamaSwapRulesTest {
  private static final CachePolicy NO_LIMITS = new CachePolicy(CachePolicy.UNLIMITED_MODELS, CachePolicy.UNLIMITED_BYTES,
      CachePolicy.NO_IDLE_TTL, CachePolicy.NO_PRESSURE_THRESHOLD);
  private Timeline t;

  @AfterEach
  void checkValidState() {
    CacheTesting.checkValidState(t.cache);
  }

  private static CachePolicy swap(ModelGroups groups, Waiters waiters, int perModel) {
    return NO_LIMITS.withSwapping(groups, waiters, perModel);
  }


  /**
   * A model's own ttl, else globalTTL (load.go 138-145: the unset ttl, -1, becomes globalTTL; 0 never
   * unloads): with globalTTL 60 s, fast's ttl of 10 s unloads it first, and default, set to never, stays.
   */
  @Test
  void aModelsOwnTtl_overridesTheGlobalOne() {
    t = new Timeline(swap(ModelGroups.of(Map.of(new ModelGroups.Group("all", false, false, false),
        List.of(FAST, DEFAULT, REASONING))), Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS)
        .withIdleTtl(java.time.Duration.ofSeconds(60))
        .withModelTtls(Map.of(FAST, java.time.Duration.ofSeconds(10), DEFAULT, CachePolicy.NO_IDLE_TTL)));
    t.serve(1, FAST);
    t.serve(2, DEFAULT);
    t.serve(3, REASONING);
    assertEquals(List.of(FAST), Timeline.evicted(t.advance(java.time.Duration.ofSeconds(10)).tick()));
    assertEquals(List.of(REASONING), Timeline.evicted(t.advance(java.time.Duration.ofSeconds(50)).tick()));
    assertEquals(List.of(), Timeline.evicted(t.advance(java.time.Duration.ofHours(5)).tick()));
    assertEquals(List.of(DEFAULT), t.cached());
  }

  /**
   * No groups configured: every model is in "(default)", which swaps and is exclusive
   * (AddDefaultGroupToConfig), so one model runs at a time.
   */
  @Test
  void withoutGroups_oneModelAtATime() {
    t = new Timeline(swap(ModelGroups.of(Map.of()), Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS));
    t.serve(1, FAST);
    List<CacheEvent> events = t.serve(2, DEFAULT);
    assertEquals(List.of(FAST), Timeline.evicted(events));
    assertTrue(events.stream().anyMatch(e -> e instanceof Evicted v && v.reason() == EvictionReason.SWAP), events.toString());
    assertEquals(List.of(DEFAULT), t.cached());
  }

  /**
   * A group with swap: false keeps its members together; an exclusive group's model unloads the other
   * groups' models, except a persistent group's (EvictionFor: "og != tg && tgCfg.Exclusive" and
   * "!ogCfg.Persistent").
   */
  @Test
  void exclusiveUnloadsOtherGroups_butNotAPersistentOne() {
    ModelGroups groups = ModelGroups.of(Map.of(
        new ModelGroups.Group("chat", false, false, false), List.of(FAST, DEFAULT),
        new ModelGroups.Group("embed", false, false, true), List.of(HUGE),
        new ModelGroups.Group("big", true, true, false), List.of(REASONING)));
    t = new Timeline(swap(groups, Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS));
    t.serve(1, FAST);
    t.serve(2, DEFAULT);
    t.serve(3, HUGE);
    assertEquals(3, t.cached().size(), "chat's two members stay together, and nothing chat loads is exclusive");
    assertEquals(List.of(FAST, DEFAULT), Timeline.evicted(t.serve(4, REASONING)), "by name (phi3.5 before qwen2.5), as the sorted running set");
    assertEquals(List.of(HUGE, REASONING), t.cached());
  }

  /**
   * The gotcha EvictionFor keeps on purpose: a model of a group that is not exclusive leaves an
   * exclusive group's model loaded, and the next request for that model (ready) is not the fast path,
   * because its eviction set is not empty: it unloads the other before it is served.
   */
  @Test
  void aNonExclusiveModelLeavesAnExclusiveOne_andTheExclusiveOnesNextRequestUnloadsIt() {
    ModelGroups groups = ModelGroups.of(Map.of(
        new ModelGroups.Group("chat", true, false, false), List.of(FAST),
        new ModelGroups.Group("big", true, true, false), List.of(REASONING)));
    t = new Timeline(swap(groups, Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS));
    t.serve(1, REASONING);
    assertEquals(List.of(), Timeline.evicted(t.serve(2, FAST)));
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(3, REASONING)), "a hit that swaps");
  }

  /** A swap that would stop a model still serving waits for it to drain (OnRequest step 5, OnServeDone). */
  @Test
  void aSwapThatWouldStopABusyModel_waitsForItToDrain() {
    t = new Timeline(swap(ModelGroups.of(Map.of()), Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS));
    t.request(1, FAST);
    t.loaded(FAST);
    List<CacheEvent> waiting = t.request(2, DEFAULT);
    assertEquals(List.of(new Waiting(2, DEFAULT, CacheEvent.WaitReason.GROUP_BUSY)), waiting);
    assertEquals(List.of(FAST), Timeline.evicted(t.release(1)));
  }

  /**
   * drainQueue promotes every queued request that no longer collides, past the blocked ones; under
   * IN_ORDER the same queue holds the second behind the first.
   */
  @Test
  void waitersEachOnTheirOwn_passABlockedOne() {
    ModelGroups groups = ModelGroups.of(Map.of(
        new ModelGroups.Group("a", true, false, false), List.of(FAST, DEFAULT),
        new ModelGroups.Group("b", true, false, false), List.of(REASONING, HUGE)));
    for (Waiters w : Waiters.values()) {
      t = new Timeline(swap(groups, w, CachePolicy.UNLIMITED_REQUESTS));
      t.request(1, FAST);
      t.loaded(FAST);
      t.request(2, REASONING);
      t.loaded(REASONING);
      assertTrue(t.request(3, DEFAULT).get(0) instanceof Waiting, "DEFAULT must stop FAST, which is busy");
      List<CacheEvent> fourth = t.request(4, HUGE);
      assertTrue(fourth.get(0) instanceof Waiting, "HUGE must stop REASONING, which is busy");
      List<CacheEvent> drained = t.release(2);
      assertEquals(w == Waiters.EACH_ON_ITS_OWN ? List.of(REASONING) : List.of(), Timeline.evicted(drained), w.toString());
      CacheTesting.checkValidState(t.cache);
    }
  }

  /** admit: "if s.reserved[req.Model] >= s.limit(req.Model)" refuses (429) past concurrencyLimit. */
  @Test
  void pastTheConcurrencyLimit_aRequestIsRefused() {
    t = new Timeline(swap(ModelGroups.of(Map.of()), Waiters.EACH_ON_ITS_OWN, 2));
    t.request(1, FAST);
    t.request(2, FAST);
    List<CacheEvent> third = t.request(3, FAST);
    assertEquals(1, third.size());
    assertEquals(CacheEvent.RejectReason.CONCURRENCY_LIMIT, ((Rejected) third.get(0)).reason());
    t.loaded(FAST);
    t.release(1);
    assertTrue(t.request(4, FAST).get(0) instanceof CacheEvent.Hit, "a slot freed");
    t.release(2);
    t.release(4);
  }
}
