package io.mlxcap.cache;

import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Hit;
import io.mlxcap.cache.CacheEvent.Joined;
import io.mlxcap.cache.CacheEvent.LoadFailed;
import io.mlxcap.cache.CacheEvent.LoadFinished;
import io.mlxcap.cache.CacheEvent.LoadSkipped;
import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Ready;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CacheEvent.UnloadRefused;
import io.mlxcap.cache.CacheEvent.Waiting;
import java.util.List;

/**
 * What a shell does with each kind of {@link CacheEvent}: one method per kind, none with a default, so
 * the server and the simulator both say what every decision means to them, and a new kind of
 * decision cannot be silently ignored by either.
 *
 * <p>The core's decisions come as a list; {@link #apply} hands them over in order. A handler must not
 * call back into the cache while the list is being applied: work that needs the cache again (a
 * freed worker taking the next queued request) is collected and done after the list.
 */
public interface CacheActions {

  /** Hands each of {@code events} to {@code actions}, in order. */
  static void apply(List<CacheEvent> events, CacheActions actions) {
    for (int i = 0, n = events.size(); i < n; i++) {
      events.get(i).applyTo(actions);
    }
  }

  /** The request may use its resident model now. */
  void hit(Hit event);

  /** The request waits for a load already under way. */
  void joined(Joined event);

  /** The request waits for room. */
  void waiting(Waiting event);

  /** The load the request waited for is done; it may use the model now. */
  void ready(Ready event);

  /** The request cannot be served. */
  void rejected(Rejected event);

  /** Load the model. */
  void loadStarted(LoadStarted event);

  /** A load the shell reported as done is now resident. */
  void loadFinished(LoadFinished event);

  /** A load the shell reported as failed is gone from the cache. */
  void loadFailed(LoadFailed event);

  /** Unload the model. */
  void evicted(Evicted event);

  /** A preload or manual load did not start. */
  void loadSkipped(LoadSkipped event);

  /** A manual unload was refused. */
  void unloadRefused(UnloadRefused event);
}
