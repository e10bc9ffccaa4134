package io.mlxcap.server.host;

import io.mlxcap.lifecycle.Lifecycle;
import io.mlxcap.trace.TraceEvent;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.Condition;

/**
 * The requests admitted and not yet done, and how each is recorded when it leaves (the trace's
 * {@code done} line and the request metrics). Everything here runs under the host's lock; a request
 * leaving signals the drain that waits for the host to empty. It is also how the {@link Lifecycle}
 * reads a request's model and keep-alive and tells it got a worker.
 */
final class InFlight implements Lifecycle.Requests {
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Condition left;
  private final TraceRecorder trace;
  private final ServerMetrics metrics;

  InFlight(Condition left, TraceRecorder trace, ServerMetrics metrics) {
    this.left = left;
    this.trace = trace;
    this.metrics = metrics;
  }

  @Override
  public String model(long id) {
    return pending.get(id).model;
  }

  @Override
  public long keepAlive(long id) {
    return pending.get(id).keepAlive;
  }

  @Override
  public void started(long id, long now) {
    Pending p = pending.get(id);
    p.workerStart = now;
    p.inCache = true;
  }

  Pending get(long id) {
    return pending.get(id);
  }

  void add(Pending request) {
    pending.put(request.id, request);
  }

  Pending remove(long id) {
    return pending.remove(id);
  }

  boolean contains(long id) {
    return pending.containsKey(id);
  }

  int size() {
    return pending.size();
  }

  Collection<Pending> all() {
    return pending.values();
  }

  /** A request refused on arrival (past its context, draining, queue full): recorded {@code rejected}, never admitted. */
  void refused(Pending request, long now, String why) {
    trace.done(now, request.traceId, TraceEvent.Status.REJECTED, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
        TraceEvent.UNKNOWN, TraceEvent.UNKNOWN, why);
    metrics.requests.labelValues("rejected").inc();
  }

  /**
   * A request that has left (already removed) is recorded: its queue wait, its wait for a model and
   * its service, each unknown when it never got that far ({@code ready} is {@link Pending#NOT_READY}
   * when it never had its model).
   */
  void ended(Pending request, TraceEvent.Status status, long ready, long outputTokens, String error, long now) {
    boolean started = request.workerStart != Pending.NOT_READY;
    boolean served = ready != Pending.NOT_READY;
    trace.done(now, request.traceId, status, (started ? request.workerStart : now) - request.arrival,
        started ? (served ? ready : now) - request.workerStart : TraceEvent.UNKNOWN,
        served ? now - ready : TraceEvent.UNKNOWN, outputTokens, error);
    metrics.requests.labelValues(status.name().toLowerCase(Locale.ROOT)).inc();
    metrics.latency.observe((now - request.arrival) / 1e9);
    left.signalAll();
  }

  /** How a request that will not be served is recorded. */
  static TraceEvent.Status statusOf(HostException e) {
    return e.cancelled() ? TraceEvent.Status.CANCELLED
        : e.status() == 413 ? TraceEvent.Status.REJECTED : TraceEvent.Status.ERROR;
  }

  /** Waits (releasing the host's lock meanwhile) until no request is in flight, or {@code limit} has passed. */
  void awaitEmpty(Duration limit) {
    long remaining = limit.toNanos();
    try {
      while (!pending.isEmpty() && remaining > 0) {
        remaining = left.awaitNanos(remaining);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
