package io.mlxcap.cache;

import io.mlxcap.ByteSize;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rules of DESIGN.md written as plainly as possible, to check the real core against step by step.
 *
 * <p>Recency is an access-ordered {@link LinkedHashMap} ({@code get} touches); pins and bytes are not
 * kept but recomputed from the request table each time they are needed, so a counter the real core
 * gets wrong shows up as a difference.
 */
final class ReferenceCache {
  private final CachePolicy policy;
  private final Map<String, Long> estimates;
  private final LinkedHashMap<String, Model> lru = new LinkedHashMap<>(16, 0.75f, true);
  /** The same models without the touch of {@code get}, to look without using. */
  private final Map<String, Model> byName = new HashMap<>();
  /** Request id to the model it pins; waiting requests are not here. */
  private final LinkedHashMap<Long, String> holders = new LinkedHashMap<>();
  /** Request id to the model it waits for room for, in arrival order. */
  private final LinkedHashMap<Long, String> waiting = new LinkedHashMap<>();

  private static final class Model {
    String name;
    boolean loading = true;
    long bytes;
    long lastUsed;
    long loadedAt;
    /** The keep-alive of the latest request that used it. */
    long keepAlive = ModelCache.KEEP_ALIVE_DEFAULT;
    /** When its load or its latest request started (llama.cpp's last_used). */
    long lastStarted;
    /** Loaded by the operator under ManualLoads.KEPT. */
    boolean kept;
    final List<Long> awaiting = new ArrayList<>();
  }

  ReferenceCache(CachePolicy policy, Map<String, Long> estimates) {
    this.policy = policy;
    this.estimates = estimates;
  }

  private int pins(String model) {
    return (int) holders.values().stream().filter(model::equals).count();
  }

  /** Idle, not kept for the operator and not pinned by the policy: the cache may give it up. */
  private boolean idle(String model) {
    Model m = byName.get(model);
    return !m.loading && pins(model) == 0 && !m.kept && !policy.neverEvicted().contains(model);
  }

  /** When each waiting request began to wait. */
  private final Map<Long, Long> waitSince = new HashMap<>();

  /** The models the count cap counts: the kept ones are not. */
  private int counted() {
    return (int) lru.values().stream().filter(m -> !m.kept).count();
  }

  private long reserved() {
    return lru.values().stream().mapToLong(m -> m.bytes).sum();
  }

  private void touch(String model, long now) {
    lru.get(model).lastUsed = now;
  }

  List<CachedModel> cached() {
    List<CachedModel> out = new ArrayList<>();
    lru.forEach((name, m) -> {
      long idleSince = Math.max(m.lastUsed, m.loadedAt);
      long ttl = ttl(m);
      long expires = !idle(name) || ttl == Long.MAX_VALUE ? Long.MAX_VALUE : idleSince + ttl;
      out.add(new CachedModel(name, m.loading, m.bytes, pins(name), m.lastUsed, idleSince, expires, m.kept));
    });
    return out;
  }

  List<CacheEvent> preload(List<String> models, long now) {
    List<CacheEvent> events = new ArrayList<>();
    models.forEach(m -> events.addAll(load(m, LoadCause.PRELOAD, now)));
    return events;
  }

  List<CacheEvent> load(String name, LoadCause cause, long now) {
    List<CacheEvent> events = new ArrayList<>();
    long size = estimates.get(name);
    if (lru.containsKey(name)) {
      events.add(new LoadSkipped(name, cause, SkipReason.ALREADY_CACHED));
    } else if (size > policy.maxBytes()) {
      events.add(new LoadSkipped(name, cause, SkipReason.TOO_LARGE));
    } else if (queueFirst() || roomOrPastCap(name, size, cause != LoadCause.PRELOAD, now, now, events) != null) {
      events.add(new LoadSkipped(name, cause, SkipReason.NO_ROOM));
    } else {
      start(name, size, cause, CacheEvent.NO_REQUEST, now, events);
    }
    return events;
  }

  private long ttl(Model m) {
    if (m.keepAlive != ModelCache.KEEP_ALIVE_DEFAULT) {
      return m.keepAlive;
    }
    Duration own = policy.modelTtls().get(m.name);
    return own == null ? policy.idleTtlNanos() : own.toNanos();
  }

  private final Map<Long, Long> keepAlives = new HashMap<>();

  List<CacheEvent> request(long id, String name, long keepAlive, long now) {
    keepAlives.put(id, keepAlive);
    List<CacheEvent> events = new ArrayList<>();
    long size = estimates.get(name);
    long admitted = holders.values().stream().filter(name::equals).count()
        + waiting.values().stream().filter(name::equals).count();
    if (admitted >= policy.perModelRequests()) {
      events.add(new Rejected(id, name, RejectReason.CONCURRENCY_LIMIT, name + " already has "
          + policy.perModelRequests() + " requests admitted, as many as the policy allows"));
    } else if (lru.containsKey(name) && !byName.get(name).loading && !goers(name).isEmpty()) {
      List<String> goers = goers(name);
      if (goers.stream().allMatch(this::idle)) {
        goers.forEach(g -> evict(g, EvictionReason.SWAP, events));
        grant(id, name, now, events);
      } else {
        waiting.put(id, name);
        waitSince.put(id, now);
        events.add(new Waiting(id, name, WaitReason.GROUP_BUSY));
      }
    } else if (lru.containsKey(name)) {
      grant(id, name, now, events);
    } else if (size > policy.maxBytes()) {
      events.add(new Rejected(id, name, RejectReason.TOO_LARGE, name + " needs " + ByteSize.format(size)
          + ", more than the whole MLX_MAX_CACHE_BYTES budget of " + ByteSize.format(policy.maxBytes())));
    } else {
      WaitReason reason = queueFirst() ? WaitReason.BEHIND_WAITING : roomOrPastCap(name, size, true, now, now, events);
      if (reason == null) {
        start(name, size, LoadCause.REQUEST, id, now, events);
      } else {
        waiting.put(id, name);
        waitSince.put(id, now);
        events.add(new Waiting(id, name, reason));
      }
    }
    return events;
  }

  List<CacheEvent> loadSucceeded(String name, long bytes, long now) {
    Model m = byName.get(name);
    m.loading = false;
    m.bytes = bytes;
    m.loadedAt = now;
    if (!m.awaiting.isEmpty()) {
      m.lastStarted = now;
    }
    List<CacheEvent> events = new ArrayList<>();
    events.add(new LoadFinished(name, bytes));
    m.awaiting.forEach(id -> events.add(new Ready(id, name)));
    m.awaiting.clear();
    if (ttl(m) == 0 && idle(name)) {
      evict(name, EvictionReason.IDLE_TTL, events);
    }
    trim(Integer.MAX_VALUE, EvictionReason.BUDGET, events);
    retry(now, events);
    return events;
  }

  List<CacheEvent> loadFailed(String name, String error, long now) {
    Model m = lru.remove(name);
    byName.remove(name);
    List<CacheEvent> events = new ArrayList<>();
    events.add(new LoadFailed(name, error));
    for (long id : m.awaiting) {
      holders.remove(id);
      events.add(new Rejected(id, name, RejectReason.LOAD_FAILED, error));
    }
    retry(now, events);
    return events;
  }

  List<CacheEvent> release(long id, long now) {
    List<CacheEvent> events = new ArrayList<>();
    if (waiting.remove(id) == null) {
      String name = holders.remove(id);
      lru.get(name).awaiting.remove(id);
      touch(name, now);
      if (ttl(byName.get(name)) == 0 && idle(name)) {
        evict(name, EvictionReason.IDLE_TTL, events);
      }
    }
    trim(Integer.MAX_VALUE, EvictionReason.BUDGET, events);
    retry(now, events);
    return events;
  }

  List<CacheEvent> tick(long now) {
    List<CacheEvent> events = new ArrayList<>();
    for (String name : new ArrayList<>(lru.keySet())) {
      Model m = byName.get(name);
      if (idle(name) && ttl(m) != Long.MAX_VALUE && now - Math.max(m.lastUsed, m.loadedAt) >= ttl(m)) {
        evict(name, EvictionReason.IDLE_TTL, events);
      }
    }
    trim(policy.loadsPastCap() ? Integer.MAX_VALUE : policy.maxModels(), EvictionReason.CLEANUP, events);
    retry(now, events);
    return events;
  }

  List<CacheEvent> memoryObserved(long used, long total, long now) {
    List<CacheEvent> events = new ArrayList<>();
    long freed = 0;
    for (String name : victimOrder()) {
      if (used - freed <= policy.pressureThreshold() * total) {
        break;
      }
      if (idle(name)) {
        freed += byName.get(name).bytes;
        evict(name, EvictionReason.PRESSURE, events);
      }
    }
    retry(now, events);
    return events;
  }

  List<CacheEvent> unload(String name, long now) {
    List<CacheEvent> events = new ArrayList<>();
    if (!lru.containsKey(name)) {
      events.add(new UnloadRefused(name, SkipReason.NOT_CACHED));
    } else if (byName.get(name).loading) {
      events.add(new UnloadRefused(name, SkipReason.LOADING));
    } else if (pins(name) > 0) {
      events.add(new UnloadRefused(name, SkipReason.IN_USE));
    } else {
      evict(name, EvictionReason.MANUAL, events);
      retry(now, events);
    }
    return events;
  }

  private void grant(long id, String name, long now, List<CacheEvent> events) {
    holders.put(id, name);
    Model m = lru.get(name);
    m.lastUsed = now;
    takeKeepAlive(m, id);
    if (m.loading) {
      m.awaiting.add(id);
      events.add(new Joined(id, name));
    } else {
      m.lastStarted = now;
      events.add(new Hit(id, name));
    }
  }

  private void start(String name, long size, LoadCause cause, long id, long now, List<CacheEvent> events) {
    Model m = new Model();
    m.name = name;
    m.bytes = size;
    m.lastUsed = now;
    m.lastStarted = now;
    m.kept = cause != LoadCause.REQUEST && policy.manualLoads() == ManualLoads.KEPT;
    lru.put(name, m);
    byName.put(name, m);
    events.add(new LoadStarted(name, size, cause, id));
    if (id != CacheEvent.NO_REQUEST) {
      holders.put(id, name);
      m.awaiting.add(id);
      takeKeepAlive(m, id);
    }
  }

  private boolean queueFirst() {
    return !waiting.isEmpty() && policy.waiters() == Waiters.IN_ORDER;
  }

  /** The cached models that may not stay beside {@code target}, by name. */
  private List<String> goers(String target) {
    return lru.keySet().stream().filter(m -> policy.groups().mustGoFor(target, m)).sorted().toList();
  }

  private WaitReason room(String target, long size, boolean capped, List<CacheEvent> events) {
    int cap = capped ? policy.maxModels() : Integer.MAX_VALUE;
    List<String> goers = goers(target);
    if (!goers.stream().allMatch(this::idle)) {
      return WaitReason.GROUP_BUSY;
    }
    int count = counted() - (int) goers.stream().filter(g -> !byName.get(g).kept).count();
    long bytes = reserved() - goers.stream().mapToLong(g -> byName.get(g).bytes).sum();
    Map<String, EvictionReason> victims = new LinkedHashMap<>();
    goers.forEach(g -> victims.put(g, EvictionReason.SWAP));
    for (String name : victimOrder()) {
      if (goers.contains(name)) {
        continue;
      }
      boolean overCount = count >= cap;
      boolean overBytes = bytes + size > policy.maxBytes() && policy.maxBytes() != CachePolicy.UNLIMITED_BYTES;
      if (!overCount && !overBytes) {
        break;
      }
      if (idle(name)) {
        victims.put(name, overCount ? EvictionReason.MAX_MODELS : EvictionReason.BUDGET);
        count--;
        bytes -= byName.get(name).bytes;
      }
    }
    if (count >= cap) {
      return WaitReason.ALL_MODELS_BUSY;
    }
    if (bytes + size > policy.maxBytes() && policy.maxBytes() != CachePolicy.UNLIMITED_BYTES) {
      return WaitReason.BUDGET_BUSY;
    }
    victims.forEach((name, reason) -> evict(name, reason, events));
    return null;
  }

  /**
   * LocalAI's loader: when busy models hold the room under the cap, wait, up to the policy's time;
   * when nothing busy holds it (loads and pinned models only), or once waited long enough, go past.
   */
  private WaitReason roomOrPastCap(String target, long size, boolean capped, long since, long now, List<CacheEvent> events) {
    WaitReason reason = room(target, size, capped, events);
    if (reason != WaitReason.ALL_MODELS_BUSY || !policy.loadsPastCap()) {
      return reason;
    }
    for (String name : victimOrder()) {
      if (counted() < policy.maxModels()) {
        break;
      }
      if (idle(name)) {
        evict(name, EvictionReason.MAX_MODELS, events); // each try evicts what it can
      }
    }
    boolean busyHolds = lru.entrySet().stream().anyMatch(e -> !e.getValue().loading && pins(e.getKey()) > 0
        && !e.getValue().kept && !policy.neverEvicted().contains(e.getKey()));
    boolean waitedEnough = now - since >= policy.pastCapAfter().toNanos();
    return busyHolds && !waitedEnough ? reason : room(target, size, false, events);
  }

  private void trim(int cap, EvictionReason countReason, List<CacheEvent> events) {
    for (String name : victimOrder()) {
      boolean overCount = counted() > cap;
      if (!overCount && reserved() <= policy.maxBytes()) {
        return;
      }
      if (idle(name)) {
        evict(name, overCount ? countReason : EvictionReason.BUDGET, events);
      }
    }
  }

  private void retry(long now, List<CacheEvent> events) {
    boolean blocked = false;
    for (Map.Entry<Long, String> w : new ArrayList<>(waiting.entrySet())) {
      long id = w.getKey();
      String name = w.getValue();
      if (lru.containsKey(name)) {
        List<String> goers = byName.get(name).loading ? List.of() : goers(name);
        if (!goers.stream().allMatch(this::idle)) {
          continue;
        }
        goers.forEach(g -> evict(g, EvictionReason.SWAP, events));
        waiting.remove(id);
        grant(id, name, now, events);
      } else if (!blocked) {
        long size = estimates.get(name);
        if (roomOrPastCap(name, size, true, waitSince.get(id), now, events) == null) {
          waiting.remove(id);
          start(name, size, LoadCause.REQUEST, id, now, events);
        } else {
          blocked = policy.waiters() == Waiters.IN_ORDER;
        }
      }
    }
  }

  /**
   * The cached models in the order the policy gives them up: recency, Ollama's sort (keep-alive in
   * force as an unsigned number, then name), or llama.cpp's router's (latest start, then name), the
   * sorts written out as plain insertion sorts.
   */
  private List<String> victimOrder() {
    List<String> names = new ArrayList<>(lru.keySet());
    if (policy.victims() == VictimOrder.LEAST_RECENTLY_USED) {
      return names;
    }
    if (policy.victims() == VictimOrder.LARGEST_FIRST) {
      List<String> bySize = new ArrayList<>();
      for (String name : names) {
        int at = 0;
        while (at < bySize.size() && byName.get(bySize.get(at)).bytes >= byName.get(name).bytes) {
          at++;
        }
        bySize.add(at, name);
      }
      return bySize;
    }
    if (policy.victims() == VictimOrder.LEAST_RECENTLY_STARTED) {
      List<String> byStart = new ArrayList<>();
      for (String name : names) {
        int at = 0;
        while (at < byStart.size() && !startedBefore(name, byStart.get(at))) {
          at++;
        }
        byStart.add(at, name);
      }
      return byStart;
    }
    List<String> sorted = new ArrayList<>();
    for (String name : names) {
      int at = 0;
      while (at < sorted.size() && !goesBefore(name, sorted.get(at))) {
        at++;
      }
      sorted.add(at, name);
    }
    return sorted;
  }

  private boolean startedBefore(String a, String b) {
    long ta = byName.get(a).lastStarted;
    long tb = byName.get(b).lastStarted;
    return ta != tb ? ta < tb : a.compareTo(b) < 0;
  }

  private boolean goesBefore(String a, String b) {
    int byKeepAlive = Long.compareUnsigned(ttl(byName.get(a)), ttl(byName.get(b)));
    return byKeepAlive != 0 ? byKeepAlive < 0 : a.compareTo(b) < 0;
  }

  /** The request's keep-alive, unless it asked for none and the policy keeps the model's. */
  private void takeKeepAlive(Model m, long id) {
    long asked = keepAlives.get(id);
    if (asked != ModelCache.KEEP_ALIVE_DEFAULT || policy.unsetKeepAlive() == UnsetKeepAlive.RESETS) {
      m.keepAlive = asked;
    }
  }

  private void evict(String name, EvictionReason reason, List<CacheEvent> events) {
    Model m = lru.remove(name);
    byName.remove(name);
    events.add(new Evicted(name, m.bytes, reason));
  }
}
