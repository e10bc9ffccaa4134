package io.mlxcap.cache;

import java.util.List;

/**
 * The cache policy both shells drive: a deterministic state machine with no threads, no I/O and no
 * clock of its own.
 *
 * <p>Each method takes the time of the event (nanoseconds of the caller's {@code Ticker}, never
 * decreasing) and returns what the core decided, as {@link CacheEvent}s in order; the caller carries
 * them out. Models are named by their canonical names; resolving aliases is the caller's job. Not
 * thread-safe: the server holds a lock around it, the simulator has one thread.
 *
 * <h2>A request's path</h2>
 * {@link #request} answers {@code Hit} (resident: proceed), {@code Joined} (loading: wait for
 * {@code Ready}), {@code Evicted…, LoadStarted} (make room by LRU, then load; wait for {@code Ready}),
 * {@code Waiting} (room is held by busy models) or {@code Rejected}. From acquiring its model to
 * {@link #release} a request pins it, and a pinned model is never evicted.
 */
public interface ModelCache {

  /** Returns a cache enforcing {@code policy}, sizing models before their load with {@code weigher}. */
  static ModelCache create(CachePolicy policy, Weigher weigher) {
    return new LruModelCache(policy, weigher);
  }

  /** The limits this cache enforces. */
  CachePolicy policy();

  /**
   * Loads each of {@code models} in order at start. Unlike {@link #load}, preload may go past the
   * count cap (the surplus goes at the next load or cleanup tick); the byte budget still holds.
   */
  List<CacheEvent> preload(List<String> models, long now);

  /**
   * Loads {@code model} without a request, evicting LRU idle models if it needs room; skipped when
   * cached already, when busy models hold the room, or when it is larger than the byte budget.
   */
  List<CacheEvent> load(String model, LoadCause cause, long now);

  /** The keep-alive of a request that asks for none: the model stays idle as long as the policy's idle TTL allows. */
  long KEEP_ALIVE_DEFAULT = Long.MIN_VALUE;

  /** A keep-alive that never expires: the idle TTL does not apply (Ollama's {@code keep_alive: -1}). */
  long KEEP_ALIVE_FOREVER = Long.MAX_VALUE;

  /** Request {@code requestId} (new, unique while active) wants {@code model}, with the default keep-alive. */
  default List<CacheEvent> request(long requestId, String model, long now) {
    return request(requestId, model, KEEP_ALIVE_DEFAULT, now);
  }

  /**
   * Request {@code requestId} (new, unique while active) wants {@code model} and asks that, once idle,
   * it stay for {@code keepAliveNanos} (Ollama's {@code keep_alive}): 0 evicts it as soon as no request
   * uses it, {@link #KEEP_ALIVE_FOREVER} exempts it from the idle TTL, {@link #KEEP_ALIVE_DEFAULT}
   * asks for none. The latest request to use a model sets its keep-alive; one that asks for none sets
   * it back to the policy's idle TTL or leaves it as it was, as the policy's {@link UnsetKeepAlive}
   * says (Ollama leaves it). Models idle past their
   * keep-alive go at the next cleanup tick ({@code IDLE_TTL}); a keep-alive of 0 at release.
   */
  List<CacheEvent> request(long requestId, String model, long keepAliveNanos, long now);

  /** The shell finished loading {@code model}; it holds {@code bytes}. */
  List<CacheEvent> loadSucceeded(String model, long bytes, long now);

  /** The shell failed to load {@code model}; every request waiting on it is rejected. */
  List<CacheEvent> loadFailed(String model, String error, long now);

  /**
   * Request {@code requestId} is done with its model: served, failed or abandoned by its client, in
   * whatever state it was (waiting for room, waiting on a load, or using the model).
   */
  List<CacheEvent> release(long requestId, long now);

  /** The periodic cleanup: evicts models idle past the TTL, then trims to the count cap by LRU. */
  List<CacheEvent> tick(long now);

  /**
   * The host has {@code usedBytes} of {@code totalBytes} RAM in use: above the pressure threshold,
   * evicts LRU idle models until their bytes bring use back under it.
   */
  List<CacheEvent> memoryObserved(long usedBytes, long totalBytes, long now);

  /** An operator asks to unload {@code model}; refused while it loads or serves a request. */
  List<CacheEvent> unload(String model, long now);

  /** Returns the cached models, least recently used first. */
  List<CachedModel> cached();

  /** Returns the bytes of resident models (loading ones not counted). */
  long residentBytes();

  /** Returns how many requests wait for room. */
  int waitingRequests();

  /** Returns how many requests the cache is tracking: using a model, waiting on a load or waiting for room. */
  int activeRequests();
}
