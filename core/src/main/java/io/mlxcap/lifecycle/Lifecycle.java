package io.mlxcap.lifecycle;

import io.mlxcap.cache.CacheEvent;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.ModelCache;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's whole path through the core, as both shells drive it: the {@link Dispatcher}'s workers
 * and queue in front of the {@link ModelCache}, with one rule for when a worker changes hands.
 *
 * <h2>The rule</h2>
 * A worker changes hands inside the event that frees it, at that event's time, before anything else
 * happens: a request that gets a worker on arrival asks the cache for its model in the same step; a
 * release, or a rejection of a request holding a worker (its model too large, its load failed, the
 * shell's {@link Gate} refusing it), hands the worker to the next queued request, which asks the cache
 * at once; and the events of that ask come after the events of the step that freed the worker. So the
 * order of decisions depends only on the order of the shell's calls, never on how soon a thread of
 * the shell wakes up: the server makes its calls under one lock with the time read inside it, the
 * simulator makes them in virtual time, and a replay that makes the same calls at the same times gets
 * the same decisions. (Before this class the server handed a freed worker on through a future, and the
 * next request asked the cache when its thread ran, some hundred microseconds later, while the
 * simulator asked at once: in a run with two workers a load ending in between gave the two shells
 * different victims.)
 *
 * <p>Pure and deterministic like the cache: no threads, no clock. Not thread-safe.
 */
public final class Lifecycle {

  /** What the lifecycle needs to know of a request to ask the cache for its model. */
  public interface Requests {
    /** The canonical name of the model request {@code id} wants. */
    String model(long id);

    /** The keep-alive request {@code id} asked for, or {@link ModelCache#KEEP_ALIVE_DEFAULT}. */
    long keepAlive(long id);

    /** Request {@code id} got a worker at {@code now}; it asks the cache for its model next. */
    void started(long id, long now);
  }

  /**
   * The shell's last word before a request with a worker asks the cache: null lets it ask; a reason
   * refuses it ({@link CacheEvent.RejectReason#UNAVAILABLE}) and hands its worker on. The server
   * refuses a request whose model failed to load a moment ago or whose files are missing, or which
   * was cancelled while queued; the simulator refuses nothing.
   */
  public interface Gate {
    /** Lets nothing stop a request. */
    Gate OPEN = (id, model, now) -> null;

    String refusal(long id, String model, long now);
  }

  private final ModelCache cache;
  private final Dispatcher dispatcher;
  private final Requests requests;
  private final Gate gate;

  public Lifecycle(ModelCache cache, Dispatcher dispatcher, Requests requests, Gate gate) {
    this.cache = cache;
    this.dispatcher = dispatcher;
    this.requests = requests;
    this.gate = gate;
  }

  /** The cache behind the lifecycle, for what does not concern workers (preload, manual loads, reading its state). */
  public ModelCache cache() {
    return cache;
  }

  /** The dispatcher behind the lifecycle, to read its state. */
  public Dispatcher dispatcher() {
    return dispatcher;
  }

  /** What an arrival became: its admission, and the core's decisions when it started. */
  public record Arrival(Dispatcher.Admission admission, List<CacheEvent> events) {}

  private static final Arrival QUEUED = new Arrival(Dispatcher.Admission.QUEUED, List.of());
  private static final Arrival REFUSED = new Arrival(Dispatcher.Admission.REJECTED, List.of());

  /** Request {@code id} arrived: it takes a free worker and asks for its model now, waits in the queue, or is refused. */
  public Arrival arrive(long id, long now) {
    return switch (dispatcher.arrive(id)) {
      case START -> new Arrival(Dispatcher.Admission.START, ask(id, now));
      case QUEUED -> QUEUED;
      case REJECTED -> REFUSED;
    };
  }

  /**
   * Request {@code id}, which holds a worker and has asked the cache, is done (served, failed or
   * abandoned, in whatever state it was): its pin goes, and its worker goes to the next queued request.
   */
  public List<CacheEvent> finish(long id, long now) {
    return handOn(now, settle(now, cache.release(id, now)));
  }

  /**
   * Request {@code id} leaves while it waits for a worker; false when it is not queued (it holds a
   * worker, or has gone already).
   */
  public boolean leaveQueue(long id) {
    return dispatcher.cancel(id);
  }

  /** A load finished (see {@link ModelCache#loadSucceeded}); workers of requests it rejects change hands. */
  public List<CacheEvent> loadSucceeded(String model, long bytes, long now) {
    return settle(now, cache.loadSucceeded(model, bytes, now));
  }

  /** A load failed: its requests are rejected and their workers change hands. */
  public List<CacheEvent> loadFailed(String model, String error, long now) {
    return settle(now, cache.loadFailed(model, error, now));
  }

  /** The cleanup tick. */
  public List<CacheEvent> tick(long now) {
    return settle(now, cache.tick(now));
  }

  /** A reading of the host's memory, for the pressure rule. */
  public List<CacheEvent> memoryObserved(long usedBytes, long totalBytes, long now) {
    return settle(now, cache.memoryObserved(usedBytes, totalBytes, now));
  }

  /** A preload at start (see {@link ModelCache#preload}). */
  public List<CacheEvent> preload(List<String> models, long now) {
    return settle(now, cache.preload(models, now));
  }

  /** A manual load (see {@link ModelCache#load}). */
  public List<CacheEvent> load(String model, io.mlxcap.cache.LoadCause cause, long now) {
    return settle(now, cache.load(model, cause, now));
  }

  /** A manual unload (see {@link ModelCache#unload}). */
  public List<CacheEvent> unload(String model, long now) {
    return settle(now, cache.unload(model, now));
  }

  /** Request {@code id} has a worker now: the gate, then the cache; with the decisions of workers its rejection frees. */
  private List<CacheEvent> ask(long id, long now) {
    requests.started(id, now);
    String model = requests.model(id);
    String refusal = gate.refusal(id, model, now);
    List<CacheEvent> asked = refusal != null
        ? List.of(new Rejected(id, model, CacheEvent.RejectReason.UNAVAILABLE, refusal))
        : cache.request(id, model, requests.keepAlive(id), now);
    return settle(now, asked);
  }

  /** A worker was freed: after {@code before}, the decisions of the next queued request, which takes it. */
  private List<CacheEvent> handOn(long now, List<CacheEvent> before) {
    long next = dispatcher.finished();
    return next == Dispatcher.NONE ? before : concat(before, ask(next, now));
  }

  /**
   * {@code events}, followed by the decisions of the queued requests that take the workers its
   * rejections free, one after the other in the order of the rejections.
   */
  private List<CacheEvent> settle(long now, List<CacheEvent> events) {
    List<CacheEvent> out = events;
    for (int i = 0, n = events.size(); i < n; i++) {
      if (events.get(i) instanceof Rejected) {
        out = handOn(now, out);
      }
    }
    return out;
  }

  private static List<CacheEvent> concat(List<CacheEvent> a, List<CacheEvent> b) {
    if (a.isEmpty()) {
      return b;
    }
    if (b.isEmpty()) {
      return a;
    }
    List<CacheEvent> both = new ArrayList<>(a.size() + b.size());
    both.addAll(a);
    both.addAll(b);
    return both;
  }
}
