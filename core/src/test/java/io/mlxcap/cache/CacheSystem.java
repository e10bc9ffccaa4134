package io.mlxcap.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Hit;
import io.mlxcap.cache.CacheEvent.Joined;
import io.mlxcap.cache.CacheEvent.LoadFailed;
import io.mlxcap.cache.CacheEvent.LoadFinished;
import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CacheEvent.Waiting;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The real cache core and the reference model driven side by side by a property's random actions,
 * plus an event-driven tracker of who pins what and of recency, to state DESIGN.md's invariants.
 */
final class CacheSystem {
  static final long GB = 1_000_000_000L;
  static final List<String> MODELS = List.of("fast", "coder", "reasoning", "huge");
  static final Map<String, Long> ESTIMATES =
      Map.of("fast", 3 * GB, "coder", 22 * GB, "reasoning", 45 * GB, "huge", 65 * GB);
  static final long HOST_BYTES = 160 * GB;

  final CachePolicy policy;
  final ModelCache core;
  final ReferenceCache reference;
  long now;
  private long nextId = 1;

  // The tracker: what the events so far say, kept apart from both caches.
  /** Request id to the model it pins. */
  final Map<Long, String> holders = new LinkedHashMap<>();
  final Set<Long> waitingIds = new LinkedHashSet<>();
  final Map<Long, String> waitingModel = new HashMap<>();
  final Set<String> loading = new HashSet<>();
  /** Cached models, least recently used first. */
  final List<String> recency = new ArrayList<>();
  /** The keep-alive each request asked for, and the one in force for each cached model (by the policy's rule). */
  final Map<Long, Long> asked = new HashMap<>();
  final Map<String, Long> keepAlive = new HashMap<>();
  /** When each cached model's load or latest request started (a hit, or ready after its load). */
  final Map<String, Long> started = new HashMap<>();
  /** Models the operator loaded that the policy keeps ({@link ManualLoads#KEPT}). */
  final Set<String> kept = new HashSet<>();
  /** The bytes of each cached model: its estimate while it loads, then what its load reported. */
  final Map<String, Long> bytes = new HashMap<>();
  /** The most models the cap counts that the cache may hold now: the cap, or a preload surplus that only shrinks. */
  int allowedCount;
  /** Loads the last step started: under a policy that loads past its cap, each may add one to the surplus. */
  private int loadsStarted;

  // The last step, for the invariants to look at.
  String lastAction = "start";
  List<CacheEvent> lastEvents = List.of();
  List<CacheEvent> lastExpected = List.of();
  final Map<String, List<String>> violations = new LinkedHashMap<>();
  /** Kinds of event seen in this chain (e.g. {@code Evicted:budget}), to check the generator reaches them. */
  final Set<String> reached = new HashSet<>();

  CacheSystem(CachePolicy policy, List<String> preload) {
    this.policy = policy;
    this.core = ModelCache.create(policy, ESTIMATES::get);
    this.reference = new ReferenceCache(policy, ESTIMATES);
    step("preload " + preload, () -> core.preload(preload, now), () -> reference.preload(preload, now), null);
    allowedCount = Math.max(policy.maxModels(), countedModels());
  }

  // ---- actions ----

  void request(String model, long keepAlive) {
    long id = nextId++;
    asked.put(id, keepAlive);
    step("request " + id + " " + model + (keepAlive == ModelCache.KEEP_ALIVE_DEFAULT ? "" : " keep-alive " + keepAlive),
        () -> core.request(id, model, keepAlive, now), () -> reference.request(id, model, keepAlive, now), null);
  }

  void loadSucceeded(String model, long bytes) {
    step("loaded " + model + " " + bytes, () -> core.loadSucceeded(model, bytes, now),
        () -> reference.loadSucceeded(model, bytes, now), null);
  }

  void loadFailed(String model) {
    step("failed " + model, () -> core.loadFailed(model, "boom", now), () -> reference.loadFailed(model, "boom", now), null);
  }

  void release(long id) {
    String model = waitingIds.remove(id) ? null : holders.remove(id);
    step("release " + id, () -> core.release(id, now), () -> reference.release(id, now), model);
  }

  void tick(long seconds) {
    now += seconds * 1_000_000_000L;
    step("tick +" + seconds + "s", () -> core.tick(now), () -> reference.tick(now), null);
  }

  void advance(long seconds) {
    now += seconds * 1_000_000_000L;
    lastAction = "advance +" + seconds + "s";
    lastEvents = List.of();
    lastExpected = List.of();
    violations.clear();
  }

  void memoryObserved(long usedBytes) {
    step("memory " + usedBytes, () -> core.memoryObserved(usedBytes, HOST_BYTES, now),
        () -> reference.memoryObserved(usedBytes, HOST_BYTES, now), null);
  }

  void unload(String model) {
    step("unload " + model, () -> core.unload(model, now), () -> reference.unload(model, now), null);
  }

  void load(String model) {
    step("load " + model, () -> core.load(model, LoadCause.MANUAL, now),
        () -> reference.load(model, LoadCause.MANUAL, now), null);
  }

  List<String> loadingModels() {
    return List.copyOf(loading);
  }

  List<Long> activeRequests() {
    List<Long> ids = new ArrayList<>(holders.keySet());
    ids.addAll(waitingIds);
    return ids;
  }

  // ---- one step: run both, walk the events through the tracker ----

  private void step(String action, Supplier<List<CacheEvent>> onCore, Supplier<List<CacheEvent>> onReference,
      String touched) {
    lastAction = action;
    violations.clear();
    lastEvents = onCore.get();
    lastExpected = onReference.get();
    loadsStarted = (int) lastEvents.stream().filter(e -> e instanceof LoadStarted).count();
    if (touched != null) {
      moveToEnd(touched);
    }
    Set<String> failed = new HashSet<>();
    for (CacheEvent event : lastEvents) {
      walk(event, failed);
    }
    if (policy.loadsPastCap() && loadsStarted > 0 && countedModels() > policy.maxModels() && !action.startsWith("preload")) {
      reached.add("LoadStarted:past_cap");
    }
    for (String model : failed) {
      if (core.cached().stream().anyMatch(c -> c.model().equals(model))) {
        violate("failed load leaves no residue", model + " is still cached after its load failed");
      }
    }
  }

  private void walk(CacheEvent event, Set<String> failed) {
    reached.add(label(event));
    if (event instanceof Hit hit) {
      checkAlone(hit.model(), "hit");
      grant(hit.requestId(), hit.model());
      started.put(hit.model(), now);
    } else if (event instanceof CacheEvent.Ready ready) {
      started.put(ready.model(), now);
    } else if (event instanceof Joined joined) {
      if (!loading.contains(joined.model())) {
        violate("one load per model at a time", "request " + joined.requestId() + " joined " + joined.model() + ", which is not loading");
      }
      grant(joined.requestId(), joined.model());
    } else if (event instanceof Waiting waiting) {
      waitingIds.add(waiting.requestId());
      waitingModel.put(waiting.requestId(), waiting.model());
    } else if (event instanceof Rejected rejected) {
      holders.remove(rejected.requestId());
      waitingIds.remove(rejected.requestId());
    } else if (event instanceof LoadStarted started) {
      if (recency.contains(started.model())) {
        violate("one load per model at a time", "a second load of " + started.model() + " while it is "
            + (loading.contains(started.model()) ? "loading" : "resident"));
      }
      checkAlone(started.model(), "load");
      loading.add(started.model());
      recency.add(started.model());
      bytes.put(started.model(), started.expectedBytes());
      this.started.put(started.model(), now);
      if (started.cause() != LoadCause.REQUEST && policy.manualLoads() == ManualLoads.KEPT) {
        kept.add(started.model());
      }
      keepAlive.put(started.model(), ModelCache.KEEP_ALIVE_DEFAULT);
      if (started.requestId() != CacheEvent.NO_REQUEST) {
        takeKeepAlive(started.requestId(), started.model());
        waitingIds.remove(started.requestId());
        holders.put(started.requestId(), started.model());
      }
    } else if (event instanceof LoadFinished finished) {
      loading.remove(finished.model());
      bytes.put(finished.model(), finished.bytes());
    } else if (event instanceof LoadFailed loadFailed) {
      loading.remove(loadFailed.model());
      recency.remove(loadFailed.model());
      kept.remove(loadFailed.model());
      failed.add(loadFailed.model());
    } else if (event instanceof Evicted evicted) {
      String model = evicted.model();
      if (holders.containsValue(model) || loading.contains(model)) {
        violate("busy models are never evicted", model + " was evicted (" + evicted.reason().wireName()
            + ") while " + (loading.contains(model) ? "loading" : "pinned by a request"));
      }
      if (policy.neverEvicted().contains(model) && evicted.reason() != EvictionReason.MANUAL) {
        violate("busy models are never evicted", model + " was evicted (" + evicted.reason().wireName()
            + ") though the policy pins it");
      }
      if (kept.contains(model) && evicted.reason() != EvictionReason.MANUAL) {
        violate("busy models are never evicted", model + " was evicted (" + evicted.reason().wireName()
            + ") though the operator loaded it and the policy keeps such models");
      }
      // Capacity victims are the first idle model in the policy's order (LRU, or Ollama's shortest
      // keep-alive then name); idle-TTL victims are whichever idled long enough.
      if (evicted.reason() != EvictionReason.MANUAL && evicted.reason() != EvictionReason.IDLE_TTL
          && evicted.reason() != EvictionReason.SWAP) {
        List<String> order = idleInVictimOrder();
        String first = order.isEmpty() ? null : order.get(0);
        if (!model.equals(first)) {
          violate("the victim is the first idle model in the policy's order",
              model + " was evicted (" + evicted.reason().wireName() + ") but the first idle model in "
                  + policy.victims().wireName() + " order was " + first + " in " + order + " (recency " + recency + ")");
        }
      }
      recency.remove(model);
      kept.remove(model);
    }
  }

  /** A model starts (its load, or a hit) only once the models that may not stay beside it are gone. */
  private void checkAlone(String model, String how) {
    for (String other : recency) {
      if (policy.groups().mustGoFor(model, other)) {
        violate("a model starts only with the models that must go gone", model + " started (" + how + ") while "
            + other + " is cached, which its group says must go first (cached " + recency + ")");
      }
    }
  }

  /** The kind of an event with its reason, e.g. {@code Waiting:behind_waiting}. */
  static String label(CacheEvent event) {
    String kind = event.getClass().getSimpleName();
    if (event instanceof Evicted e) {
      return kind + ":" + e.reason().wireName();
    } else if (event instanceof Waiting w) {
      return kind + ":" + w.reason().wireName();
    } else if (event instanceof Rejected r) {
      return kind + ":" + r.reason().wireName();
    } else if (event instanceof CacheEvent.LoadSkipped k) {
      return kind + ":" + k.reason().wireName();
    } else if (event instanceof CacheEvent.UnloadRefused u) {
      return kind + ":" + u.reason().wireName();
    }
    return kind;
  }

  private void grant(long id, String model) {
    waitingIds.remove(id);
    holders.put(id, model);
    moveToEnd(model);
    takeKeepAlive(id, model);
  }

  private void takeKeepAlive(long id, String model) {
    long k = asked.get(id);
    if (k != ModelCache.KEEP_ALIVE_DEFAULT || policy.unsetKeepAlive() == UnsetKeepAlive.RESETS) {
      keepAlive.put(model, k);
    }
  }

  /** The idle models in the order the policy must give them up. */
  private List<String> idleInVictimOrder() {
    List<String> idle = new ArrayList<>(recency.stream()
        .filter(m -> !loading.contains(m) && !holders.containsValue(m) && !kept.contains(m)
            && !policy.neverEvicted().contains(m)).toList());
    if (policy.victims() == VictimOrder.LARGEST_FIRST) {
      idle.sort(java.util.Comparator.<String>comparingLong(bytes::get).reversed()); // stable: ties stay LRU first
    } else if (policy.victims() == VictimOrder.LEAST_RECENTLY_STARTED) {
      idle.sort(java.util.Comparator.<String>comparingLong(started::get).thenComparing(m -> m));
    } else if (policy.victims() == VictimOrder.SHORTEST_KEEP_ALIVE) {
      idle.sort(java.util.Comparator.<String>comparingLong(m -> {
        long k = kept.contains(m) ? Long.MAX_VALUE : keepAlive.getOrDefault(m, ModelCache.KEEP_ALIVE_DEFAULT);
        return k == ModelCache.KEEP_ALIVE_DEFAULT ? policy.idleTtlNanos(m) : k;
      }).thenComparing(m -> m));
    }
    return idle;
  }

  private void moveToEnd(String model) {
    if (recency.remove(model)) {
      recency.add(model);
    }
  }

  private void violate(String invariant, String detail) {
    violations.computeIfAbsent(invariant, k -> new ArrayList<>()).add(detail);
  }

  // ---- the invariants, each checked after every step ----

  void checkNoViolation(String invariant) {
    List<String> found = violations.getOrDefault(invariant, List.of());
    assertTrue(found.isEmpty(), () -> invariant + " broken by '" + lastAction + "': " + found + "; events " + lastEvents);
  }

  /** The cached models the cap counts: all but the kept ones. */
  private int countedModels() {
    return (int) core.cached().stream().filter(c -> !kept.contains(c.model())).count();
  }

  void checkCapRespected() {
    int count = countedModels();
    // A policy that loads past its cap may grow the surplus by the loads of this step, never otherwise.
    int allowed = (int) Math.min(Integer.MAX_VALUE, (long) allowedCount + (policy.loadsPastCap() ? loadsStarted : 0));
    assertTrue(count <= allowed, () -> "cap respected: '" + lastAction + "' left " + count
        + " models cached, allowed " + allowed + " (cap " + policy.maxModels() + "): " + core.cached());
    allowedCount = Math.max(policy.maxModels(), count);
  }

  void checkPinsMatchRequests() {
    for (CachedModel model : core.cached()) {
      long holding = holders.values().stream().filter(model.model()::equals).count();
      assertEquals(holding, model.pins(), () -> "pins of " + model.model() + " after '" + lastAction
          + "' disagree with the requests holding it " + holders);
    }
    long pinned = core.cached().stream().mapToLong(CachedModel::pins).sum();
    assertEquals(holders.size(), pinned, () -> "a pin left behind after '" + lastAction + "': " + core.cached() + " vs " + holders);
    assertEquals(waitingIds.size(), core.waitingRequests(), () -> "waiting requests after '" + lastAction + "'");
    Map<String, Integer> admitted = new HashMap<>();
    holders.values().forEach(m -> admitted.merge(m, 1, Integer::sum));
    for (long id : waitingIds) {
      admitted.merge(waitingModel.get(id), 1, Integer::sum);
    }
    admitted.forEach((m, n) -> assertTrue(n <= policy.perModelRequests(), () -> "more requests admitted for " + m
        + " than the policy's " + policy.perModelRequests() + " after '" + lastAction + "': " + n));
    assertEquals(holders.size() + waitingIds.size(), core.activeRequests(),
        () -> "requests the core still tracks after '" + lastAction + "', holding " + holders + ", waiting " + waitingIds);
  }

  void checkByteAccounting() {
    CacheTesting.checkValidState(core);
  }

  void checkMatchesReference() {
    assertEquals(lastExpected, lastEvents, () -> "decisions differ from the reference model at '" + lastAction + "'");
    assertEquals(reference.cached(), core.cached(), () -> "state differs from the reference model after '" + lastAction + "'");
  }

  @Override
  public String toString() {
    return "CacheSystem[" + policy + ", cached=" + core.cached() + "]";
  }
}
