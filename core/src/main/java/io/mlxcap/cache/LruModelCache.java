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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;

/**
 * The cache core: the seed's rules (count cap, evict-before-load, periodic trim, preload, the
 * pressure threshold) plus the opt-in idle TTL and byte budget, with victims taken in the policy's
 * {@link VictimOrder} (LRU unless it says otherwise) and, under {@link ManualLoads#KEPT}, the models
 * the operator loaded left out of the count cap and out of every eviction but a manual unload.
 *
 * <h2>Implementation notes</h2>
 *
 * <p><b>Recency.</b> Entries are linked in recency order, least recent first: an entry moves to the
 * end when created (its load starts), acquired or released. The end of a load is not a use and
 * does not reorder, so the order depends only on the order of requests, not on load times (which
 * keeps the one-pass LRU curve of the simulator exact). Under LRU, victims are taken from the front,
 * skipping entries that are loading or pinned; another {@link VictimOrder} sorts a copy of the list
 * and takes them from its front the same way. Caches hold a handful of models, so the scans are short.
 *
 * <p><b>Idle time.</b> The idle TTL counts from the later of the last use and the end of the load,
 * so a slow preload is not expired the moment it arrives.
 *
 * <p><b>Counting.</b> A loading model takes a slot under the count cap and its weigher estimate under
 * the byte budget from the moment its load starts; when it finishes, its reported bytes replace the
 * estimate, and if they push the cache over the budget, LRU idle models go ({@code BUDGET}). If
 * every other model is busy, the cache stays over the budget until a release lets one go: the one
 * overshoot the core allows, bounded by how wrong the weigher was.
 *
 * <p><b>Preload past the cap.</b> Preload loads every listed model the budget allows, even more than
 * {@code MLX_MAX_CACHED_MODELS}: the operator asked for them. The surplus is the seed's "extra"
 * models: the next load evicts it by LRU before it starts ({@code MAX_MODELS}) and the next cleanup
 * tick trims it ({@code CLEANUP}). This is the only way the count exceeds the cap, and it never
 * grows while it does; it is also the only thing the seed's periodic trim can ever find to do.
 *
 * <p><b>Making room.</b> Room is planned before anything is evicted: if busy models hold so much that
 * even evicting every idle one would not be enough, nothing is evicted and the request waits. The
 * cache never evicts a model a request pins, and never goes over a limit to serve a request, with
 * one exception a policy asks for: LocalAI's loader waits a while for busy models and then loads past
 * its count cap ({@link CachePolicy#withBackends}); the byte budget holds even then.
 *
 * <p><b>Waiting.</b> Waiting requests hold no pin. After every event that may free room (release,
 * load end, tick, pressure, unload) they are retried in arrival order. A waiter whose model became
 * cached meanwhile proceeds at once; a waiter that still needs room and cannot get it blocks those
 * behind it that need room too, so a large model is not starved by a stream of small ones. A new
 * request that needs room while others wait queues behind them ({@code BEHIND_WAITING}).
 *
 * <p><b>Eviction is immediate.</b> An evicted model leaves the core at once; the shell unloads it
 * afterwards. A request for a model that is being unloaded is a miss and starts a fresh load; the
 * server must finish closing the old instance before loading the new one.
 */
final class LruModelCache implements ModelCache {
  private final CachePolicy policy;
  private final Weigher weigher;

  /** Cached models by name; their recency order is the list from {@link #lru} to {@link #mru}. */
  private final HashMap<String, Entry> entries = new HashMap<>();
  private Entry lru;
  private Entry mru;
  /** Requests that hold a pin or wait for room, by id. */
  private final LongMap<Request> active = new LongMap<>();
  /** Requests admitted (holding a pin or waiting) per model, when the policy limits them. */
  private final HashMap<String, Integer> admitted = new HashMap<>();
  /** Requests waiting for room, in arrival order. */
  private final LinkedHashMap<Long, Request> waiting = new LinkedHashMap<>();
  /** The sentence refusing a model larger than the budget, made once per model (a replay may refuse millions). */
  private final HashMap<String, String> tooLarge = new HashMap<>();

  /** Evicted entries and released requests kept for reuse, at most {@link #SPARES} of each. */
  private static final int SPARES = 16;
  private final java.util.ArrayDeque<Entry> spareEntries = new java.util.ArrayDeque<>();
  private final java.util.ArrayDeque<Request> spareRequests = new java.util.ArrayDeque<>();

  /** The scratch list {@link #victimOrder} fills. */
  private final ArrayList<Entry> order = new ArrayList<>();

  /** How many cached models the operator loaded under {@link ManualLoads#KEPT}: the count cap leaves them out. */
  private int keptModels;

  private long residentBytes;
  /** Resident bytes plus the estimates of loads in progress: what the budget is checked against. */
  private long reservedBytes;
  private long lastNow = Long.MIN_VALUE;

  LruModelCache(CachePolicy policy, Weigher weigher) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.weigher = Objects.requireNonNull(weigher, "weigher");
  }

  @Override
  public CachePolicy policy() {
    return policy;
  }

  @Override
  public List<CacheEvent> preload(List<String> models, long now) {
    List<CacheEvent> events = new ArrayList<>();
    for (String model : models) {
      events.addAll(load(model, LoadCause.PRELOAD, now));
    }
    return events;
  }

  @Override
  public List<CacheEvent> load(String model, LoadCause cause, long now) {
    advanceTo(now);
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(cause, "cause");
    List<CacheEvent> events = new ArrayList<>(2);
    if (entries.containsKey(model)) {
      events.add(new LoadSkipped(model, cause, SkipReason.ALREADY_CACHED));
      return events;
    }
    long size = weigh(model);
    if (size > policy.maxBytes()) {
      events.add(new LoadSkipped(model, cause, SkipReason.TOO_LARGE));
    } else if (queueFirst() || roomFor(model, size, cause != LoadCause.PRELOAD, now, now, events) != null) {
      events.add(new LoadSkipped(model, cause, SkipReason.NO_ROOM));
    } else {
      startLoad(model, size, cause, null, now, events);
    }
    return events;
  }

  @Override
  public List<CacheEvent> request(long requestId, String model, long keepAliveNanos, long now) {
    advanceTo(now);
    if (keepAliveNanos < 0 && keepAliveNanos != KEEP_ALIVE_DEFAULT) {
      throw new IllegalArgumentException("keep-alive must be >= 0 ns or KEEP_ALIVE_DEFAULT, was " + keepAliveNanos);
    }
    Objects.requireNonNull(model, "model");
    if (active.containsKey(requestId)) {
      throw new IllegalStateException("request " + requestId + " is already active");
    }
    if (policy.perModelRequests() != CachePolicy.UNLIMITED_REQUESTS
        && admitted.getOrDefault(model, 0) >= policy.perModelRequests()) {
      return List.of(new Rejected(requestId, model, RejectReason.CONCURRENCY_LIMIT, model + " already has "
          + policy.perModelRequests() + " requests admitted, as many as the policy allows"));
    }
    Entry entry = entries.get(model);
    if (entry != null) {
      Request request = newRequest(requestId, model, keepAliveNanos);
      admit(request);
      if (entry.loading || !policy.groups().active()) {
        return List.of(pin(entry, request, now));
      }
      // Resident, but models that may not stay beside it must go first (llama-swap runs its swap for it).
      List<CacheEvent> events = new ArrayList<>(2);
      WaitReason busy = evictCoResidents(model, events);
      if (busy != null) {
        park(request, busy, now, events);
      } else {
        events.add(pin(entry, request, now));
      }
      return events;
    }
    List<CacheEvent> events = new ArrayList<>(2);
    // Weighed before the request is registered: a weigher that throws leaves nothing behind.
    long size = weigh(model);
    if (size > policy.maxBytes()) {
      events.add(new Rejected(requestId, model, RejectReason.TOO_LARGE, tooLarge.computeIfAbsent(model,
          m -> m + " needs " + ByteSize.format(size) + ", more than the whole MLX_MAX_CACHE_BYTES budget of "
              + ByteSize.format(policy.maxBytes()))));
      return events;
    }
    Request request = newRequest(requestId, model, keepAliveNanos);
    admit(request);
    WaitReason blocked = queueFirst() ? WaitReason.BEHIND_WAITING : roomFor(model, size, true, now, now, events);
    if (blocked != null) {
      park(request, blocked, now, events);
    } else {
      startLoad(model, size, LoadCause.REQUEST, request, now, events);
    }
    return events;
  }

  @Override
  public List<CacheEvent> loadSucceeded(String model, long bytes, long now) {
    advanceTo(now);
    if (bytes <= 0) {
      throw new IllegalArgumentException("a loaded model holds more than 0 bytes, " + model + " reported " + bytes);
    }
    Entry entry = loadingEntry(model);
    reservedBytes += bytes - entry.bytes;
    residentBytes += bytes;
    entry.bytes = bytes;
    entry.loading = false;
    entry.idleSince = Math.max(entry.idleSince, now);
    List<CacheEvent> events = new ArrayList<>(1 + entry.awaiting.size());
    events.add(new LoadFinished(model, bytes));
    if (!entry.awaiting.isEmpty()) {
      entry.lastStarted = now; // the requests that waited start on it now
    }
    for (Request request : entry.awaiting) {
      events.add(new Ready(request.id, model));
    }
    entry.awaiting.clear();
    expireAtOnce(entry, events);
    trimToBudget(events);
    retryWaiting(now, events);
    return events;
  }

  @Override
  public List<CacheEvent> loadFailed(String model, String error, long now) {
    advanceTo(now);
    Entry entry = loadingEntry(model);
    entries.remove(model);
    unlink(entry);
    reservedBytes -= entry.bytes;
    keptModels -= entry.kept ? 1 : 0;
    List<CacheEvent> events = new ArrayList<>(1 + entry.awaiting.size());
    events.add(new LoadFailed(model, error));
    for (Request request : entry.awaiting) {
      active.remove(request.id);
      leave(request);
      events.add(new Rejected(request.id, model, RejectReason.LOAD_FAILED, error));
    }
    retryWaiting(now, events);
    return events;
  }

  @Override
  public List<CacheEvent> release(long requestId, long now) {
    advanceTo(now);
    Request request = active.remove(requestId);
    if (request == null) {
      throw new IllegalStateException("request " + requestId + " is not active");
    }
    leave(request);
    List<CacheEvent> events = new ArrayList<>(0);
    if (request.waiting) {
      waiting.remove(requestId);
    } else {
      Entry entry = request.entry; // pinned, so still cached
      entry.pins--;
      entry.awaiting.remove(request);
      touch(entry, now);
      expireAtOnce(entry, events);
    }
    recycle(request);
    trimToBudget(events);
    retryWaiting(now, events);
    return events;
  }

  @Override
  public List<CacheEvent> tick(long now) {
    advanceTo(now);
    List<CacheEvent> events = new ArrayList<>(0);
    for (Entry entry = lru, next; entry != null; entry = next) {
      next = entry.newer;
      long ttl = ttl(entry);
      if (entry.evictable() && ttl != Long.MAX_VALUE && now - entry.idleSince >= ttl) {
        evict(entry, EvictionReason.IDLE_TTL, events);
      }
    }
    // A policy that loads past its cap keeps the surplus until the next load (LocalAI trims only then).
    trim(policy.loadsPastCap() ? CachePolicy.UNLIMITED_MODELS : policy.maxModels(), EvictionReason.CLEANUP, events);
    retryWaiting(now, events);
    return events;
  }

  @Override
  public List<CacheEvent> memoryObserved(long usedBytes, long totalBytes, long now) {
    advanceTo(now);
    if (totalBytes <= 0 || usedBytes < 0) {
      throw new IllegalArgumentException(
          "memory in use must be >= 0 of a total > 0, was " + usedBytes + " of " + totalBytes);
    }
    List<CacheEvent> events = new ArrayList<>(0);
    double line = policy.pressureThreshold() * totalBytes;
    long freed = 0;
    List<Entry> order = victimOrder();
    for (int i = 0; i < order.size() && usedBytes - freed > line; i++) {
      Entry entry = order.get(i);
      if (entry.evictable()) {
        evict(entry, EvictionReason.PRESSURE, events);
        freed += entry.bytes;
      }
    }
    retryWaiting(now, events);
    return events;
  }

  @Override
  public List<CacheEvent> unload(String model, long now) {
    advanceTo(now);
    List<CacheEvent> events = new ArrayList<>(1);
    Entry entry = entries.get(model);
    if (entry == null) {
      events.add(new UnloadRefused(model, SkipReason.NOT_CACHED));
    } else if (entry.loading) {
      events.add(new UnloadRefused(model, SkipReason.LOADING));
    } else if (entry.pins > 0) {
      events.add(new UnloadRefused(model, SkipReason.IN_USE));
    } else {
      evict(entry, EvictionReason.MANUAL, events);
      retryWaiting(now, events);
    }
    return events;
  }

  @Override
  public List<CachedModel> cached() {
    List<CachedModel> models = new ArrayList<>(entries.size());
    for (Entry e = lru; e != null; e = e.newer) {
      long ttl = ttl(e);
      long expires = !e.evictable() || ttl == Long.MAX_VALUE ? Long.MAX_VALUE : e.idleSince + ttl;
      models.add(new CachedModel(e.model, e.loading, e.bytes, e.pins, e.lastUsed, e.idleSince, expires, e.kept));
    }
    return List.copyOf(models);
  }

  @Override
  public long residentBytes() {
    return residentBytes;
  }

  @Override
  public int waitingRequests() {
    return waiting.size();
  }

  @Override
  public int activeRequests() {
    return active.size();
  }

  // ---- the rules ----

  /**
   * Evicts LRU idle models until one more model of {@code size} bytes fits under the budget and,
   * when {@code capped}, the count cap, and returns null; or, when even evicting every idle model
   * would not be enough, evicts nothing and returns why.
   */
  private WaitReason makeRoom(String target, long size, boolean capped, List<CacheEvent> events) {
    int maxModels = capped ? policy.maxModels() : CachePolicy.UNLIMITED_MODELS;
    // First the plan: the models that may not stay beside the target, then how many idle models from the
    // front of the victim order must go. Nothing is evicted unless it all suffices.
    int count = countedModels();
    long bytes = reservedBytes;
    List<Entry> goers = coResidents(target);
    for (Entry g : goers) {
      if (!g.evictable()) {
        return WaitReason.GROUP_BUSY;
      }
      count -= g.kept ? 0 : 1;
      bytes -= g.bytes;
    }
    int victims = 0;
    List<Entry> order = victimOrder();
    for (int i = 0; i < order.size() && (count >= maxModels || bytes > policy.maxBytes() - size); i++) {
      Entry entry = order.get(i);
      if (entry.evictable() && !goers.contains(entry)) {
        victims++;
        count--;
        bytes -= entry.bytes;
      }
    }
    if (count >= maxModels) {
      return WaitReason.ALL_MODELS_BUSY;
    }
    if (bytes > policy.maxBytes() - size) {
      return WaitReason.BUDGET_BUSY;
    }
    // Then the same victims, in the same order, each for the limit it was over when chosen.
    for (Entry g : goers) {
      evict(g, EvictionReason.SWAP, events);
    }
    count = countedModels();
    for (int i = 0; victims > 0; i++) {
      Entry entry = order.get(i);
      if (entry.evictable() && entries.get(entry.model) == entry) {
        evict(entry, count >= maxModels ? EvictionReason.MAX_MODELS : EvictionReason.BUDGET, events);
        count--;
        victims--;
      }
    }
    return null;
  }

  /**
   * {@link #makeRoom}, and under a policy that loads past its cap (LocalAI's {@code retryEnforce}),
   * the idle models that can go evicted toward the cap even when not enough can, and the count cap
   * given up when no busy model holds the room (only loads in progress and pinned models
   * do: LocalAI's {@code NeedMore} is false) or when the request has waited, since {@code since},
   * as long as the policy says; the byte budget still holds.
   */
  private WaitReason roomFor(String target, long size, boolean capped, long since, long now, List<CacheEvent> events) {
    WaitReason blocked = makeRoom(target, size, capped, events);
    if (blocked != WaitReason.ALL_MODELS_BUSY || !policy.loadsPastCap()) {
      return blocked;
    }
    // Each try evicts what it can toward the cap (collectEvictionsLocked), then waits or goes on.
    trim(policy.maxModels() - 1, EvictionReason.MAX_MODELS, events);
    return now - since >= policy.pastCapNanos() || !anyBusyResident() ? makeRoom(target, size, false, events) : blocked;
  }

  /** Whether a resident model the policy could evict is serving a request (loading and pinned ones do not count). */
  private boolean anyBusyResident() {
    for (Entry e = lru; e != null; e = e.newer) {
      if (!e.loading && e.pins > 0 && !e.kept && !e.fixed) {
        return true;
      }
    }
    return false;
  }

  /** Evicts LRU idle models while the cache is over its budget; a surplus of models stays. */
  private void trimToBudget(List<CacheEvent> events) {
    trim(CachePolicy.UNLIMITED_MODELS, EvictionReason.BUDGET, events);
  }

  /** Evicts LRU idle models while the cache holds more than {@code maxModels} ({@code countReason}) or is over budget. */
  private void trim(int maxModels, EvictionReason countReason, List<CacheEvent> events) {
    if (countedModels() <= maxModels && reservedBytes <= policy.maxBytes()) {
      return;
    }
    List<Entry> order = victimOrder();
    for (Entry entry : order) {
      boolean overCount = countedModels() > maxModels;
      if (!overCount && reservedBytes <= policy.maxBytes()) {
        return;
      }
      if (entry.evictable()) {
        evict(entry, overCount ? countReason : EvictionReason.BUDGET, events);
      }
    }
  }

  /**
   * Returns the cached models in the order the policy gives them up, idle or not (the callers skip
   * busy ones): the recency list for LRU, else that list sorted by the policy's order. The list is
   * reused and valid until the next call; evicting while walking it is safe.
   */
  private List<Entry> victimOrder() {
    order.clear();
    for (Entry e = lru; e != null; e = e.newer) {
      order.add(e);
    }
    switch (policy.victims()) {
      case LEAST_RECENTLY_USED -> { }
      case SHORTEST_KEEP_ALIVE -> order.sort(byKeepAliveThenName);
      case LEAST_RECENTLY_STARTED -> order.sort(byStartThenName);
      case LARGEST_FIRST -> order.sort(largestFirst); // a stable sort: equal sizes stay least recently used first
    }
    return order;
  }

  /** Whether a request or load that needs room must queue behind those already waiting for it. */
  private boolean queueFirst() {
    return !waiting.isEmpty() && policy.waiters() == Waiters.IN_ORDER;
  }

  /** The cached models that must go before {@code target} may run, by name (llama-swap sorts its running set). */
  private List<Entry> coResidents(String target) {
    if (!policy.groups().active()) {
      return List.of();
    }
    List<Entry> goers = new ArrayList<>(0);
    for (Entry e = lru; e != null; e = e.newer) {
      if (policy.groups().mustGoFor(target, e.model)) {
        goers.add(e);
      }
    }
    goers.sort(java.util.Comparator.comparing(e -> e.model));
    return goers;
  }

  /** Evicts the models that may not stay beside resident {@code target} and returns null, or, when one is busy, evicts nothing and says so. */
  private WaitReason evictCoResidents(String target, List<CacheEvent> events) {
    List<Entry> goers = coResidents(target);
    for (Entry g : goers) {
      if (!g.evictable()) {
        return WaitReason.GROUP_BUSY;
      }
    }
    for (Entry g : goers) {
      evict(g, EvictionReason.SWAP, events);
    }
    return null;
  }

  /** {@code request} waits, unpinned, for {@code reason}, until a retry gives it what it needs. */
  private void park(Request request, WaitReason reason, long now, List<CacheEvent> events) {
    request.waiting = true;
    request.since = now;
    waiting.put(request.id, request);
    events.add(new Waiting(request.id, request.model, reason));
  }

  /** Registers {@code request} as active, counted against its model's limit. */
  private void admit(Request request) {
    active.put(request.id, request);
    if (policy.perModelRequests() != CachePolicy.UNLIMITED_REQUESTS) {
      admitted.merge(request.model, 1, Integer::sum);
    }
  }

  /** {@code request} is no longer active: its model's count drops. */
  private void leave(Request request) {
    if (policy.perModelRequests() != CachePolicy.UNLIMITED_REQUESTS) {
      admitted.merge(request.model, -1, (a, b) -> a + b == 0 ? null : a + b);
    }
  }

  /** The models the count cap counts: all but those the operator loaded under {@link ManualLoads#KEPT}. */
  private int countedModels() {
    return entries.size() - keptModels;
  }

  /** llama.cpp's router: the earliest {@code last_used} first, ties by name. */
  private static final java.util.Comparator<Entry> byStartThenName =
      java.util.Comparator.<Entry>comparingLong(e -> e.lastStarted).thenComparing(e -> e.model);

  /** LocalAI's size-aware order: the most bytes first. */
  private static final java.util.Comparator<Entry> largestFirst =
      java.util.Comparator.<Entry>comparingLong(e -> e.bytes).reversed();

  /** Ollama's ByDurationAndName over the keep-alive in force (the idle TTL when a request set none). */
  private final java.util.Comparator<Entry> byKeepAliveThenName =
      java.util.Comparator.<Entry>comparingLong(this::ttl).thenComparing(e -> e.model);

  /** Gives waiting requests, in arrival order, whatever the cache can now give them. */
  private void retryWaiting(long now, List<CacheEvent> events) {
    if (waiting.isEmpty()) {
      return;
    }
    boolean blocked = false;
    for (Request request : new ArrayList<>(waiting.values())) {
      Entry entry = entries.get(request.model);
      if (entry != null) {
        if (!entry.loading && evictCoResidents(request.model, events) != null) {
          continue; // a model that must go first is still busy
        }
        waiting.remove(request.id);
        request.waiting = false;
        events.add(pin(entry, request, now));
      } else if (!blocked) {
        long size = weigh(request.model);
        if (roomFor(request.model, size, true, request.since, now, events) == null) {
          waiting.remove(request.id);
          request.waiting = false;
          startLoad(request.model, size, LoadCause.REQUEST, request, now, events);
        } else {
          blocked = policy.waiters() == Waiters.IN_ORDER;
        }
      }
    }
  }

  /** How long {@code entry} may stay idle: the keep-alive of its latest request, or its model's idle TTL. */
  private long ttl(Entry entry) {
    return entry.keepAlive == KEEP_ALIVE_DEFAULT ? entry.ownTtl : entry.keepAlive;
  }

  /** Evicts {@code entry} now when it is idle and its keep-alive in force is 0 (asked for, or the policy's idle TTL). */
  private void expireAtOnce(Entry entry, List<CacheEvent> events) {
    if (entry != null && ttl(entry) == 0 && entry.evictable()) {
      evict(entry, EvictionReason.IDLE_TTL, events);
    }
  }

  private void startLoad(String model, long size, LoadCause cause, Request request, long now, List<CacheEvent> events) {
    Entry entry = spareEntries.isEmpty() ? new Entry() : spareEntries.pop();
    entry.reset(model, size, now, cause != LoadCause.REQUEST && policy.manualLoads() == ManualLoads.KEPT);
    entry.fixed = policy.neverEvicted().contains(model);
    entry.ownTtl = policy.idleTtlNanos(model);
    keptModels += entry.kept ? 1 : 0;
    entries.put(model, entry);
    append(entry);
    reservedBytes += size;
    events.add(new LoadStarted(model, size, cause, request == null ? CacheEvent.NO_REQUEST : request.id));
    if (request != null) {
      request.entry = entry;
      entry.pins++;
      entry.awaiting.add(request);
      takeKeepAlive(entry, request);
    }
  }

  /** Pins {@code entry} for {@code request}, which proceeds at once or waits for the load: says which. */
  private CacheEvent pin(Entry entry, Request request, long now) {
    request.entry = entry;
    entry.pins++;
    takeKeepAlive(entry, request);
    touch(entry, now);
    if (entry.loading) {
      entry.awaiting.add(request);
      return new Joined(request.id, entry.model);
    }
    entry.lastStarted = now;
    return new Hit(request.id, entry.model);
  }

  /** The latest request sets its model's keep-alive; one that asks for none, as the policy says. */
  private void takeKeepAlive(Entry entry, Request request) {
    if (request.keepAlive != KEEP_ALIVE_DEFAULT || policy.unsetKeepAlive() == UnsetKeepAlive.RESETS) {
      entry.keepAlive = request.keepAlive;
    }
  }

  private void evict(Entry entry, EvictionReason reason, List<CacheEvent> events) {
    entries.remove(entry.model);
    unlink(entry);
    residentBytes -= entry.bytes;
    reservedBytes -= entry.bytes;
    keptModels -= entry.kept ? 1 : 0;
    events.add(new Evicted(entry.model, entry.bytes, reason));
    if (spareEntries.size() < SPARES) {
      spareEntries.push(entry); // its fields stay readable until a load takes it again
    }
  }

  /** A request record, a spare one refilled when there is one. */
  private Request newRequest(long id, String model, long keepAlive) {
    Request r = spareRequests.isEmpty() ? new Request() : spareRequests.pop();
    r.id = id;
    r.model = model;
    r.keepAlive = keepAlive;
    r.waiting = false;
    r.entry = null;
    return r;
  }

  /** Keeps a released request's record for the next one: a replay makes millions. */
  private void recycle(Request request) {
    if (spareRequests.size() < SPARES) {
      spareRequests.push(request);
    }
  }

  private void touch(Entry entry, long now) {
    entry.lastUsed = now;
    entry.idleSince = Math.max(entry.idleSince, now);
    if (entry != mru) {
      unlink(entry);
      append(entry);
    }
  }

  /** Puts {@code entry} at the most recent end of the recency list. */
  private void append(Entry entry) {
    entry.older = mru;
    entry.newer = null;
    if (mru == null) {
      lru = entry;
    } else {
      mru.newer = entry;
    }
    mru = entry;
  }

  private void unlink(Entry entry) {
    if (entry.older == null) {
      lru = entry.newer;
    } else {
      entry.older.newer = entry.newer;
    }
    if (entry.newer == null) {
      mru = entry.older;
    } else {
      entry.newer.older = entry.older;
    }
    entry.older = null;
    entry.newer = null;
  }

  private Entry loadingEntry(String model) {
    Entry entry = entries.get(model);
    if (entry == null || !entry.loading) {
      throw new IllegalStateException("no load of " + model + " is in progress");
    }
    return entry;
  }

  private long weigh(String model) {
    long size = weigher.weigh(model);
    if (size <= 0) {
      throw new IllegalStateException("the weigher gave " + model + " a size of " + size + " bytes");
    }
    return size;
  }

  private void advanceTo(long now) {
    if (now < lastNow) {
      throw new IllegalArgumentException("time went backwards: " + now + " ns after " + lastNow + " ns");
    }
    lastNow = now;
  }

  /** A cached model: loading or resident, linked into the recency list. */
  private static final class Entry {
    String model;
    Entry older;
    Entry newer;
    final List<Request> awaiting = new ArrayList<>(1);
    long bytes;
    boolean loading;
    int pins;
    long lastUsed;
    /** The later of the last use and the end of the load: what the idle TTL counts from. */
    long idleSince;
    /** The keep-alive the latest request asked for, or {@link ModelCache#KEEP_ALIVE_DEFAULT}. */
    long keepAlive;
    /** When its load started or a request last started on it (a hit, or the end of the load it waited for). */
    long lastStarted;
    /** Loaded by the operator under {@link ManualLoads#KEPT}: only a manual unload removes it. */
    boolean kept;
    /** Pinned by the policy (LocalAI's {@code pinned: true}): counted under the cap, only a manual unload removes it. */
    boolean fixed;
    /** Its idle TTL when no request set a keep-alive: its own (llama-swap's per-model ttl), else the policy's. */
    long ownTtl;

    /** Makes this a new entry: {@code model} starts loading now. (Entries are reused after eviction.) */
    void reset(String model, long bytes, long now, boolean kept) {
      this.model = model;
      this.older = null;
      this.newer = null;
      this.awaiting.clear();
      this.bytes = bytes;
      this.loading = true;
      this.pins = 0;
      this.lastUsed = now;
      this.idleSince = now;
      this.keepAlive = KEEP_ALIVE_DEFAULT;
      this.lastStarted = now;
      this.kept = kept;
      this.fixed = false;
    }

    /** Whether the cache may give it up: idle (resident, unpinned), not kept for the operator, not pinned by the policy. */
    boolean evictable() {
      return !loading && pins == 0 && !kept && !fixed;
    }
  }

  /** A request that holds a pin or waits for room. */
  private static final class Request {
    long id;
    String model;
    long keepAlive;
    boolean waiting;
    /** The entry it pins; null while it waits for room. */
    Entry entry;
    /** When it began to wait for room. */
    long since;
  }
}
