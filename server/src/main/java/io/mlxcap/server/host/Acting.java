package io.mlxcap.server.host;

import io.mlxcap.cache.CacheActions;
import io.mlxcap.cache.CacheEvent;
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
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.trace.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each decision of the core means to the server, for one cycle of {@link ModelHost}: the
 * bookkeeping and the recording happen as the events are applied, under the host's lock; the I/O they
 * call for (start a load, close an evicted model, sample the memory) is kept and run by
 * {@link #runIo} after the lock is released, each step's failure logged and counted without stopping
 * the rest.
 */
final class Acting implements CacheActions {
  private static final Logger LOG = LoggerFactory.getLogger(Acting.class);

  private final long now;
  private final ModelHost host;
  private final InFlight requests;
  private final ModelLoading loading;
  private final TraceRecorder trace;
  private final ServerMetrics metrics;
  private final List<Runnable> io = new ArrayList<>(0);

  Acting(long now, ModelHost host, InFlight requests, ModelLoading loading, TraceRecorder trace, ServerMetrics metrics) {
    this.now = now;
    this.host = host;
    this.requests = requests;
    this.loading = loading;
    this.trace = trace;
    this.metrics = metrics;
  }

  /** Runs the I/O the events called for, in order; called after the host's lock is released. */
  void runIo() {
    for (Runnable step : io) {
      try {
        step.run();
      } catch (RuntimeException | Error e) {
        LOG.error("carrying out a cache decision failed; the server goes on", e);
        metrics.internalErrors.labelValues("action").inc();
      }
    }
  }

  @Override
  public void hit(Hit e) {
    ready(e.requestId(), e.model());
  }

  @Override
  public void ready(Ready e) {
    ready(e.requestId(), e.model());
  }

  private void ready(long id, String model) {
    Pending p = requests.get(id);
    if (p != null) {
      p.readyAt = now;
      p.ready.complete(loading.instance(model));
    }
  }

  @Override
  public void joined(Joined e) {
    requests.get(e.requestId()).hit = false;
  }

  @Override
  public void waiting(Waiting e) {
    requests.get(e.requestId()).hit = false;
  }

  /** The lifecycle has handed its worker on already: the request is answered and recorded now. */
  @Override
  public void rejected(Rejected e) {
    Pending p = requests.remove(e.requestId());
    p.inCache = false;
    p.done = true;
    HostException why = switch (e.reason()) {
      case TOO_LARGE -> new HostException(413, e.detail());
      case LOAD_FAILED -> HostException.unavailable("model " + e.model() + " could not be loaded: " + e.detail(),
          loading.retryAfter(e.model(), now));
      case UNAVAILABLE -> p.refusal;
      case CONCURRENCY_LIMIT -> new HostException(429, e.detail() + " (concurrencyLimit); try again later");
    };
    requests.ended(p, InFlight.statusOf(why), Pending.NOT_READY, TraceEvent.UNKNOWN, why.getMessage(), now);
    p.ready.completeExceptionally(why);
  }

  @Override
  public void loadStarted(LoadStarted e) {
    if (e.requestId() != CacheEvent.NO_REQUEST) {
      requests.get(e.requestId()).hit = false;
    }
    loading.started(e.model(), e.cause(), now);
    trace.loadStart(now, e.model(), e.cause(), e.expectedBytes());
    io.add(() -> loading.submit(e.model(), (instance, error) -> host.loadEnded(e.model(), instance, error)));
  }

  @Override
  public void loadFinished(LoadFinished e) {
    ModelLoading.Ended load = loading.succeeded(e.model(), now);
    trace.load(now, e.model(), load.cause(), e.bytes(), load.durationNanos());
    metrics.loads.labelValues(e.model(), load.cause().wireName()).inc();
    metrics.loadDuration.observe(load.durationNanos() / 1e9);
  }

  @Override
  public void loadFailed(LoadFailed e) {
    ModelLoading.Ended load = loading.failed(e.model(), now);
    trace.loadFailed(now, e.model(), load.cause(), load.durationNanos(), e.error());
    metrics.loadFailures.labelValues(e.model()).inc();
  }

  @Override
  public void evicted(Evicted e) {
    LoadedModel instance = loading.evicted(e.model());
    trace.evict(now, e.model(), e.bytes(), e.reason());
    metrics.evictions.labelValues(e.model(), e.reason().wireName()).inc();
    io.add(() -> loading.close(e.model(), instance));
    io.add(host::sampleMemory);
  }

  @Override
  public void loadSkipped(LoadSkipped e) {
    // The caller (preload, a manual load) reads why from the events.
  }

  @Override
  public void unloadRefused(UnloadRefused e) {
    // The caller (a manual unload) reads why from the events.
  }
}
