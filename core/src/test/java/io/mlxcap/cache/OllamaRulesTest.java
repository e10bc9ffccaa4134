package io.mlxcap.cache;

import static io.mlxcap.cache.Timeline.DEFAULT;
import static io.mlxcap.cache.Timeline.FAST;
import static io.mlxcap.cache.Timeline.HUGE;
import static io.mlxcap.cache.Timeline.REASONING;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mlxcap.cache.CacheEvent.WaitReason;
import io.mlxcap.cache.CacheEvent.Waiting;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ollama's two rules that differ from LRU, each on a timeline worked by hand from its scheduler,
 * {@code server/sched.go} at ollama/ollama@fb30760996871fa9460115c753afd2c60d4ab0f7. A cap of two
 * models stands for {@code OLLAMA_MAX_LOADED_MODELS=2}, an idle TTL of 5 min for its default
 * {@code OLLAMA_KEEP_ALIVE}.
 */
final class OllamaRulesTest {
  private static final long MINUTE = 60_000_000_000L;
  private static final CachePolicy OLLAMA = new CachePolicy(2, CachePolicy.UNLIMITED_BYTES, Duration.ofMinutes(5),
      CachePolicy.NO_PRESSURE_THRESHOLD, VictimOrder.SHORTEST_KEEP_ALIVE, UnsetKeepAlive.STAYS, ManualLoads.EVICTABLE);
  private Timeline t;

  @AfterEach
  void checkValidState() {
    CacheTesting.checkValidState(t.cache);
  }



  /**
   * sched.go 1678 sorts the runners {@code ByDurationAndName} and 1682–1690 take the first idle one:
   * the model asked to stay 1 min goes before the one asked to stay 30 min, although it was used last.
   */
  @Test
  void theVictim_isTheShortestKeepAlive_notTheLeastRecentlyUsed() {
    t = new Timeline(OLLAMA);
    t.serve(1, DEFAULT, 30 * MINUTE);
    t.serve(2, FAST, MINUTE);
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(3, REASONING)));
    assertEquals(List.of(DEFAULT, REASONING), t.cached());
  }

  /** The same two uses under LRU evict the older one: the difference is the order alone. */
  @Test
  void underLru_theSameUsesEvictTheOlderModel() {
    t = new Timeline(OLLAMA.withRules(VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.STAYS, ManualLoads.EVICTABLE));
    t.serve(1, DEFAULT, 30 * MINUTE);
    t.serve(2, FAST, MINUTE);
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.serve(3, REASONING)));
  }

  /**
   * sched.go 1569–1579: equal durations are ordered by model path, so of two models at the default
   * keep-alive the one whose name sorts first goes, whichever was used last.
   */
  @Test
  void equalKeepAlives_goInNameOrder() {
    t = new Timeline(OLLAMA);
    t.serve(1, REASONING); // "deepseek-r1-…" sorts before "qwen2.5-…"
    t.serve(2, DEFAULT);
    t.serve(3, REASONING); // used last, still first by name
    assertEquals(List.of(REASONING), Timeline.evicted(t.serve(4, FAST)));
  }

  /**
   * sched.go 1563–1564 compare the durations as uint64, and a negative keep_alive means forever
   * (envconfig/config.go 139–141): a model asked to stay forever sorts after every other.
   */
  @Test
  void keepAliveForever_sortsLast() {
    t = new Timeline(OLLAMA);
    t.serve(1, FAST, ModelCache.KEEP_ALIVE_FOREVER);
    t.serve(2, DEFAULT, 10 * MINUTE);
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.serve(3, REASONING)));
  }

  /**
   * sched.go 1682–1690 skip runners with requests in flight: a busy model with the shortest keep-alive
   * stays, and the next in order goes.
   */
  @Test
  void aBusyModel_isPassedOver_forTheNextInOrder() {
    t = new Timeline(OLLAMA);
    t.serve(1, FAST, MINUTE);
    t.serve(2, DEFAULT, 10 * MINUTE);
    t.cache.request(3, FAST, MINUTE, t.now()); // FAST in use
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.serve(4, REASONING)));
  }

  /**
   * sched.go 483–485 ({@code useLoadedRunner}) changes the runner's session duration only when the
   * request carries a keep_alive: a later request without one leaves FAST at 1 min, so FAST still
   * goes first. Under {@link UnsetKeepAlive#RESETS} the same request puts FAST back at 5 min, after
   * DEFAULT's 3 min.
   */
  @Test
  void aRequestWithoutKeepAlive_leavesTheModelsKeepAlive() {
    t = new Timeline(OLLAMA);
    t.serve(1, FAST, MINUTE);
    t.serve(2, DEFAULT, 3 * MINUTE);
    t.serve(3, FAST); // no keep_alive
    assertEquals(List.of(FAST), Timeline.evicted(t.serve(4, REASONING)));

    t = new Timeline(OLLAMA.withRules(VictimOrder.SHORTEST_KEEP_ALIVE, UnsetKeepAlive.RESETS, ManualLoads.EVICTABLE));
    t.serve(1, FAST, MINUTE);
    t.serve(2, DEFAULT, 3 * MINUTE);
    t.serve(3, FAST);
    assertEquals(List.of(DEFAULT), Timeline.evicted(t.serve(4, REASONING)));
  }

  /**
   * The keep-alive a request leaves also decides expiry (sched.go 386–409: a timer of the session
   * duration once idle): FAST, last asked to stay 1 min, is gone at the first tick after 1 min,
   * although a later request asked for nothing.
   */
  @Test
  void theKeptKeepAlive_alsoDecidesExpiry() {
    t = new Timeline(OLLAMA);
    t.serve(1, FAST, MINUTE);
    t.serve(2, FAST);
    t.advance(Duration.ofSeconds(61));
    assertEquals(List.of(FAST), Timeline.evicted(t.tick()));
  }

  /** With both models busy, a third waits (sched.go 1691–1693 then waits for an unload, 351–357). */
  @Test
  void allBusy_theRequestWaits() {
    t = new Timeline(OLLAMA);
    t.cache.request(1, FAST, t.now());
    t.loaded(FAST);
    t.cache.request(2, HUGE, t.now());
    t.loaded(HUGE);
    List<CacheEvent> events = t.request(3, DEFAULT);
    assertEquals(List.of(new Waiting(3, DEFAULT, WaitReason.ALL_MODELS_BUSY)), events);
    t.release(1);
    t.release(2);
    t.release(3);
  }
}
