package io.mlxcap.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CacheEvent;
import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Hit;
import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Ready;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.cache.ModelCache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The one rule for when a worker changes hands: in the step that frees it, at its time, with the
 * next request's decisions after the step's own.
 */
final class LifecycleTest {
  private final Map<Long, String> models = new HashMap<>();
  private final List<String> started = new ArrayList<>();
  private final Map<Long, String> refusals = new HashMap<>();

  private Lifecycle lifecycle(int workers, CachePolicy policy, Map<String, Long> sizes) {
    ModelCache cache = ModelCache.create(policy, sizes::get);
    return new Lifecycle(cache, new Dispatcher(workers, 16), new Lifecycle.Requests() {
      @Override
      public String model(long id) {
        return models.get(id);
      }

      @Override
      public long keepAlive(long id) {
        return ModelCache.KEEP_ALIVE_DEFAULT;
      }

      @Override
      public void started(long id, long now) {
        started.add(id + "@" + now);
      }
    }, (id, model, now) -> refusals.get(id));
  }

  private Lifecycle.Arrival arrive(Lifecycle l, long id, String model, long now) {
    models.put(id, model);
    return l.arrive(id, now);
  }

  @Test
  void aReleaseHandsTheWorkerOn_inTheSameStep_afterItsOwnDecisions() {
    Lifecycle l = lifecycle(1, new CachePolicy(1, CachePolicy.UNLIMITED_BYTES, CachePolicy.NO_IDLE_TTL, CachePolicy.NO_PRESSURE_THRESHOLD),
        Map.of("a", 10L, "b", 20L));
    assertEquals(List.of(new LoadStarted("a", 10, LoadCause.REQUEST, 1)), arrive(l, 1, "a", 0).events());
    assertEquals(List.of(new CacheEvent.LoadFinished("a", 10), new Ready(1, "a")), l.loadSucceeded("a", 10, 5));
    assertEquals(Dispatcher.Admission.QUEUED, arrive(l, 2, "b", 6).admission());
    assertEquals(List.of(), arrive(l, 3, "a", 7).events(), "queued: no decision yet");
    // Request 1 ends at 9: in that step request 2 gets the worker and asks for b, which evicts a.
    assertEquals(List.of(new Evicted("a", 10, EvictionReason.MAX_MODELS), new LoadStarted("b", 20, LoadCause.REQUEST, 2)),
        l.finish(1, 9));
    assertEquals(List.of("1@0", "2@9"), started, "the next request starts at the release's time");
  }

  @Test
  void aRejectionFreesItsWorker_forTheNextQueuedRequest_inTheSameStep() {
    Lifecycle l = lifecycle(1, new CachePolicy(2, 15, CachePolicy.NO_IDLE_TTL, CachePolicy.NO_PRESSURE_THRESHOLD),
        Map.of("a", 10L, "big", 20L));
    assertEquals(List.of(new LoadStarted("a", 10, LoadCause.REQUEST, 1)), arrive(l, 1, "a", 0).events());
    arrive(l, 2, "big", 1);
    arrive(l, 3, "a", 2);
    List<CacheEvent> events = l.loadSucceeded("a", 10, 3);
    assertEquals(List.of(new CacheEvent.LoadFinished("a", 10), new Ready(1, "a")), events);
    List<CacheEvent> done = l.finish(1, 4);
    assertEquals(2, done.size(), done.toString());
    assertTrue(done.get(0) instanceof Rejected r && r.requestId() == 2 && r.reason() == CacheEvent.RejectReason.TOO_LARGE, done.toString());
    assertEquals(new Hit(3, "a"), done.get(1), "then request 3 took the freed worker and found a resident");
    assertEquals(List.of("1@0", "2@4", "3@4"), started);
    assertEquals(0, l.dispatcher().queued());
    assertEquals(1, l.dispatcher().busy());
  }

  @Test
  void theGateRefusesBeforeTheCacheIsAsked_andTheWorkerMovesOn() {
    Lifecycle l = lifecycle(1, CachePolicy.seedDefaults(), Map.of("a", 10L, "b", 10L));
    arrive(l, 1, "a", 0);
    l.loadSucceeded("a", 10, 1);
    arrive(l, 2, "b", 2);
    arrive(l, 3, "a", 3);
    refusals.put(2L, "b's files are missing");
    List<CacheEvent> done = l.finish(1, 4);
    assertEquals(List.of(new Rejected(2, "b", CacheEvent.RejectReason.UNAVAILABLE, "b's files are missing"), new Hit(3, "a")), done);
    assertTrue(l.cache().cached().stream().noneMatch(c -> c.model().equals("b")), "nothing was loaded for the refused request");
  }
}
