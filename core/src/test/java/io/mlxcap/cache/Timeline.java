package io.mlxcap.cache;

import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.model.ModelTable;
import io.mlxcap.time.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A cache on a fake clock with the seed's model table, for timeline tests. */
final class Timeline {
  static final String FAST = "phi3.5:3.8b";
  static final String DEFAULT = "qwen2.5-coder:32b";
  static final String REASONING = "deepseek-r1-distill-llama:70b";
  static final String HUGE = "command-r-plus:104b";
  static final long GB = 1_000_000_000L;

  final ModelTable table = ModelTable.defaults();
  final FakeTicker ticker = new FakeTicker();
  final ModelCache cache;

  Timeline(CachePolicy policy) {
    cache = ModelCache.create(policy, model -> table.resolve(model).size().expectedBytes());
  }

  long now() {
    return ticker.read();
  }

  Timeline advance(Duration duration) {
    ticker.advance(duration);
    return this;
  }

  long expected(String model) {
    return table.resolve(model).size().expectedBytes();
  }

  List<CacheEvent> request(long id, String model) {
    return cache.request(id, model, now());
  }

  /** Finishes the load of {@code model} with the table's expected size. */
  List<CacheEvent> loaded(String model) {
    return cache.loadSucceeded(model, expected(model), now());
  }

  List<CacheEvent> release(long id) {
    return cache.release(id, now());
  }

  List<CacheEvent> tick() {
    return cache.tick(now());
  }

  /** Request, load if the cache starts a load, release: one request served start to end, every event in order. */
  List<CacheEvent> serve(long id, String model) {
    return serve(id, model, ModelCache.KEEP_ALIVE_DEFAULT);
  }

  /** {@link #serve(long, String)} for a request that asks its model to stay {@code keepAlive} ns once idle. */
  List<CacheEvent> serve(long id, String model, long keepAlive) {
    List<CacheEvent> events = new ArrayList<>(cache.request(id, model, keepAlive, now()));
    if (events.stream().anyMatch(e -> e instanceof LoadStarted s && s.model().equals(model))) {
      events.addAll(loaded(model));
    }
    events.addAll(release(id));
    return events;
  }

  /** Preloads {@code models} and finishes every load it started. */
  List<CacheEvent> preload(String... models) {
    List<CacheEvent> events = new ArrayList<>(cache.preload(List.of(models), now()));
    for (CacheEvent e : List.copyOf(events)) {
      if (e instanceof LoadStarted s) {
        events.addAll(loaded(s.model()));
      }
    }
    return events;
  }

  /** The models {@code events} evicted, in order. */
  static List<String> evicted(List<CacheEvent> events) {
    return events.stream().filter(e -> e instanceof CacheEvent.Evicted).map(CacheEvent::model).toList();
  }

  /** Cached model names, least recently used first. */
  List<String> cached() {
    return cache.cached().stream().map(CachedModel::model).toList();
  }
}
