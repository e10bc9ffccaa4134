package io.mlxcap.server.host;

import io.mlxcap.ByteSize;
import io.mlxcap.cache.CacheActions;
import io.mlxcap.cache.CacheEvent;
import io.mlxcap.cache.CacheEvent.LoadSkipped;
import io.mlxcap.cache.CacheEvent.UnloadRefused;
import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.lifecycle.Dispatcher;
import io.mlxcap.lifecycle.Lifecycle;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's shell around the cache core: one lock around {@link ModelCache} and
 * {@link Dispatcher}; their decisions are carried out outside it — loads on a loader pool, unloads
 * on the thread that got the decision — and recorded in the trace and the metrics.
 *
 * <h2>One cycle</h2>
 * Everything that changes the core goes through {@link #decide}: take the lock, read the ticker, ask
 * the core, carry out what it decided ({@link Acting}, the server's {@link CacheActions}: bookkeeping
 * and recording under the lock, I/O collected), unlock, then run the I/O, each step's failure logged
 * and counted without stopping the rest.
 *
 * <h2>Its parts</h2>
 * This class is the request's path and the admin operations. The requests in flight and their
 * records are {@link InFlight}; the loaded instances, loads in flight, back-off, file checks and the
 * loader pool are {@link ModelLoading}; the schedules (cleanup tick, memory sampling, heap trim) are
 * {@link Housekeeping}. All of their state is read and written under this class's one lock, and
 * only the decisions made in {@link #decide} touch the core. At about 630 lines this is still the
 * largest room of the server, for a reason: it is one request's whole way through the host
 * (admit, queue, worker, model, lease, release, drain), kept in one file so it reads in order.
 *
 * <h2>A request's path</h2>
 * {@link #begin} records the arrival (refusing it at once past its model's context, when the queue is
 * full, or while draining), takes a worker or waits in the FIFO queue, asks the cache for its model
 * and waits until the model is ready: a hit, a load it joined or started, or room freed for it. It
 * returns a {@link Lease}; the caller generates with the lease's model, checking
 * {@link Lease#cancelled()} as it goes, and closes the lease, which releases the pin and hands the
 * worker to the next queued request. A request that leaves early — interrupted or cancelled while
 * queued, while waiting for its model, or while generating — leaves the queue, the cache and the
 * dispatcher the same way, and is recorded {@code cancelled}.
 *
 * <h2>Safety</h2>
 * A model is only closed after the core evicted it, and the core never evicts a pinned model, so no
 * generation ever runs on a closed model. Loading and closing the same model take that model's lock,
 * so a new load waits for the old instance to be closed. Before the core may evict anything for a
 * load, the model's files are checked ({@link LoadedModel#check}); a model whose load failed is not
 * tried again before a back-off (5 s, doubling to 5 min: {@link ModelLoading}) and its requests get 503 with
 * {@code Retry-After}. The pressure rule is fed after every load and at every cleanup tick, as in the
 * simulator, when the host's memory can be read.
 */
public final class ModelHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelHost.class);
  /** After a drain's grace, how long cancelled requests get to stop and be recorded. */
  private static final Duration CANCEL_WAIT = Duration.ofSeconds(10);

  private final Settings settings;
  private final ModelTable table;
  private final Ticker ticker;
  private final boolean pressureRule;
  private final List<String> warnings = new ArrayList<>();
  private final ServerMetrics metrics;
  private final TraceRecorder trace;
  private final long startNanos;

  private final ReentrantLock lock = new ReentrantLock();
  private final ModelCache cache;
  private final Dispatcher dispatcher;
  /** The cache and the dispatcher with the one rule for handing workers on: everything a request does to the core goes through it. */
  private final Lifecycle lifecycle;
  private final InFlight requests;
  private final ModelLoading loading;
  private final Housekeeping housekeeping;
  private final AtomicLong ids = new AtomicLong();
  private boolean draining;
  private volatile boolean closed;

  /**
   * A host for the models of {@code table}, found under {@code modelsDir}, recording to {@code traceFile}
   * (none when null); start it with {@link #start}.
   */
  public ModelHost(Settings settings, ModelTable table, Path modelsDir, Ticker ticker, Path traceFile, ServerMetrics metrics) {
    this(settings, table, modelsDir, ticker, traceFile, metrics, new MemoryProbe(), LoadedModel::load);
  }

  /** How a model's folder becomes a loaded model: {@link LoadedModel#load}; a test may make it fail. */
  interface Loader {
    LoadedModel load(Path dir) throws IOException;
  }

  ModelHost(Settings settings, ModelTable table, Path modelsDir, Ticker ticker, Path traceFile, ServerMetrics metrics,
      MemoryProbe probe, Loader loader) {
    this.settings = settings;
    this.table = table;
    this.ticker = ticker;
    this.metrics = metrics;
    this.startNanos = ticker.read();
    this.loading = new ModelLoading(modelsDir.toAbsolutePath().normalize(), loader);
    this.housekeeping = new Housekeeping(probe, metrics, loading);
    MemoryProbe.Reading host = probe.read();
    this.trace = TraceRecorder.open(traceFile, new TraceHeader(Optional.of(Instant.now().toString()),
        Optional.of("mlxcap serve " + modelsDir), host.hostTotalBytes(), Runtime.getRuntime().availableProcessors(),
        settings.toEnv(), Optional.of(table)), startNanos);
    this.requests = new InFlight(lock.newCondition(), trace, metrics);
    this.cache = ModelCache.create(settings.cache(), m -> table.resolve(m).residentBytes(SizeRange.Estimate.EXPECTED));
    this.dispatcher = new Dispatcher(settings.maxConcurrentRequests(), settings.maxQueue());
    this.lifecycle = new Lifecycle(cache, dispatcher, requests, this::refusal);
    boolean wantsPressure = settings.cache().pressureThreshold() != io.mlxcap.cache.CachePolicy.NO_PRESSURE_THRESHOLD;
    this.pressureRule = probe.readsHostMemory();
    if (!pressureRule && wantsPressure) {
      warnings.add("cannot read the host's memory (/proc/meminfo): MLX_MEMORY_PRESSURE_THRESHOLD is not enforced");
    }
  }

  static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** What the operator should know about how this host runs (one sentence each), for the log at start. */
  public List<String> warnings() {
    return List.copyOf(warnings);
  }

  /** Preloads, then runs the cleanup tick and memory sampling on their schedules. */
  public void start(Duration memorySample) {
    warnings.forEach(w -> LOG.warn(w));
    decide(now -> lifecycle.preload(settings.preloadModels(), now));
    housekeeping.start(settings.cleanupInterval(), this::tick, memorySample, this::recordMemory);
  }


  /** The model a name or alias stands for (Ollama's {@code :latest} suffix allowed); 404 naming the known ones otherwise. */
  public ModelSpec resolve(String asked) {
    Optional<ModelSpec> found = table.find(asked);
    if (found.isEmpty() && asked.endsWith(":latest")) {
      found = table.find(asked.substring(0, asked.length() - ":latest".length()));
    }
    return found.orElseThrow(() -> new HostException(404,
        "model '" + asked + "' not found; known models: " + table.describeAll()));
  }

  /** The models this host serves. */
  public ModelTable table() {
    return table;
  }

  /** The settings in force. */
  public Settings settings() {
    return settings;
  }

  // ---- the one cycle ----

  /** State changes made under the lock; returns what the core decided, for {@link #decide} to carry out. */
  private interface Decision {
    List<CacheEvent> make(long now);
  }

  /**
   * Locks, reads the ticker, makes {@code decision}, carries out the core's events (bookkeeping and
   * recording under the lock), unlocks, then runs the I/O they call for; returns the events. An
   * exception from {@code decision} leaves with the lock released and nothing carried out.
   */
  private List<CacheEvent> decide(Decision decision) {
    Acting acting;
    List<CacheEvent> events;
    lock.lock();
    try {
      long now = ticker.read();
      events = decision.make(now);
      acting = new Acting(now, this, requests, loading, trace, metrics);
      CacheActions.apply(events, acting);
      if (!events.isEmpty()) {
        metrics.residentModels.set(cache.cached().stream().filter(c -> !c.loading()).count());
        metrics.residentBytes.set(cache.residentBytes());
      }
      metrics.waiting.set(dispatcher.queued());
    } finally {
      lock.unlock();
    }
    acting.runIo();
    return events;
  }

  /** A load ended on its loader thread ({@code instance} null when it failed, and {@code error} why): the core hears of it. */
  void loadEnded(String model, LoadedModel instance, String error) {
    decide(now -> {
      if (instance == null) {
        return lifecycle.loadFailed(model, error, now);
      }
      loading.loaded(model, instance);
      List<CacheEvent> events = new ArrayList<>(lifecycle.loadSucceeded(model, instance.bytes(), now));
      MemoryProbe.Reading reading = housekeeping.readMemory();
      trace.memory(now, reading);
      if (pressureRule) {
        events.addAll(lifecycle.memoryObserved(reading.hostUsedBytes(), reading.hostTotalBytes(), now));
      }
      return events;
    });
  }

  /** Reads the memory now and records it in the trace (after an eviction's close, and on the sampling schedule). */
  void sampleMemory() {
    recordMemory(housekeeping.readMemory());
  }

  private void recordMemory(MemoryProbe.Reading reading) {
    lock.lock();
    try {
      trace.memory(ticker.read(), reading);
    } finally {
      lock.unlock();
    }
  }

  // ---- a request's path ----

  /** What a request holds while it generates; closing it releases the model and the worker. */
  public final class Lease implements AutoCloseable {
    private final Pending request;
    private final LoadedModel model;
    private final long ready;
    private long outputTokens = TraceEvent.UNKNOWN;
    private TraceEvent.Status status = TraceEvent.Status.CANCELLED;
    private String error;
    private boolean closed;

    private Lease(Pending request, LoadedModel model, long ready) {
      this.request = request;
      this.model = model;
      this.ready = ready;
      housekeeping.leaseOpened();
    }

    /** The loaded model to generate with. */
    public LoadedModel model() {
      return model;
    }

    /** The request's id in the trace. */
    public String id() {
      return request.traceId;
    }

    /** True once the host asks this request to stop (the server is shutting down): stop generating and close. */
    public boolean cancelled() {
      return request.cancelled;
    }

    /** Marks the request served with {@code tokens} output tokens. */
    public void succeeded(long tokens) {
      status = TraceEvent.Status.OK;
      outputTokens = tokens;
    }

    /** Marks the request failed while generating. */
    public void failed(String reason) {
      status = TraceEvent.Status.ERROR;
      error = reason;
    }

    /** Marks the request cancelled: its client left, or the host asked it to stop. The default until it succeeds. */
    public void cancel(String reason) {
      status = TraceEvent.Status.CANCELLED;
      error = reason;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      decide(now -> release(request, status, ready, outputTokens, error, now));
      housekeeping.leaseClosed();
    }
  }

  /**
   * Admits a request for {@code spec} as asked by the client ({@code asked}), waits for a worker and
   * for the model on the calling thread, and returns the lease. Interrupting the thread while it
   * waits cancels the request. {@link #admit} does the same without holding a thread while it waits.
   *
   * @param keepAliveNanos how long the model should stay once idle (Ollama's {@code keep_alive}),
   *     {@link ModelCache#KEEP_ALIVE_DEFAULT} or {@link ModelCache#KEEP_ALIVE_FOREVER}
   * @throws HostException 400 past the model's context; 503 when the queue is full, the server is
   *     draining, the model cannot be loaded or the request was cancelled; 413 when the model is
   *     larger than the byte budget
   */
  public Lease begin(String asked, ModelSpec spec, long promptTokens, long maxTokens, long keepAliveNanos) {
    Admission admission = admit(asked, spec, promptTokens, maxTokens, keepAliveNanos);
    Pending request = admission.request;
    try {
      return lease(request, await(request.ready));
    } catch (HostException e) {
      throw left(request, e);
    }
  }

  /**
   * Records a request's arrival and, in the same step, takes a worker and asks the cache for its
   * model, or takes a place in the queue (the {@link Lifecycle}'s rule: a worker is never idle while
   * the core decides something else). Nothing waits here, and the request holds no thread while it
   * waits; refusals come at once, as in {@link #begin}.
   */
  public Admission admit(String asked, ModelSpec spec, long promptTokens, long maxTokens, long keepAliveNanos) {
    Pending request = new Pending(ids.incrementAndGet(), spec.name(), keepAliveNanos);
    decide(now -> admit(request, asked, spec, promptTokens, maxTokens, now));
    return new Admission(request);
  }

  /** A request admitted: waiting for a worker or for its model, or with its model ready. */
  public final class Admission {
    private final Pending request;

    private Admission(Pending request) {
      this.request = request;
    }

    /**
     * When the request's model is ready, on a thread of {@code executor}: completes with the lease;
     * exceptionally with a {@link HostException} when it cannot be served or was cancelled (it has then
     * left the queue and the cache).
     */
    public CompletableFuture<Lease> whenStarted(Executor executor) {
      return whenStarted(executor, false);
    }

    /**
     * As {@link #whenStarted(Executor)}; but with {@code hereIfReady}, a request
     * whose model was ready at once (a worker free, the model resident) gets its lease on the calling
     * thread, in an already completed future: the hit path with no hand-off between threads. Anything
     * that has to wait (the queue, a load) completes on {@code executor}, holding no thread until then.
     */
    public CompletableFuture<Lease> whenStarted(Executor executor, boolean hereIfReady) {
      if (hereIfReady && request.ready.isDone()) {
        try {
          return CompletableFuture.completedFuture(lease(request, await(request.ready)));
        } catch (HostException e) {
          return CompletableFuture.failedFuture(left(request, e));
        }
      }
      return request.ready.handleAsync((model, error) -> {
        if (error != null) {
          HostException e = error instanceof HostException h ? h
              : error.getCause() instanceof HostException h ? h : HostException.cancelled("the request was cancelled");
          throw left(request, e);
        }
        return lease(request, model);
      }, executor);
    }
  }

  /** The lease of a request whose model is ready. */
  private Lease lease(Pending request, LoadedModel model) {
    if (!request.hit) {
      metrics.coldStartWait.observe((request.readyAt - request.workerStart) / 1e9);
    }
    return new Lease(request, model, request.readyAt);
  }

  /**
   * A request that will not be served: unless the core rejected it (recorded already), it leaves the
   * queue or the cache now and is recorded. Returns why, to throw.
   */
  private HostException left(Pending request, HostException e) {
    if (!request.done) {
      decide(now -> leave(request, e, now));
    }
    return e;
  }

  /**
   * Records the arrival; refuses it (recorded) past the context, while draining or when the queue is
   * full; else hands it to the lifecycle, which starts it or queues it. Returns what the core decided.
   */
  private List<CacheEvent> admit(Pending request, String asked, ModelSpec spec, long promptTokens, long maxTokens, long now) {
    request.arrival = now;
    trace.request(now, request.traceId, asked, promptTokens, maxTokens,
        request.keepAlive == ModelCache.KEEP_ALIVE_DEFAULT ? TraceEvent.UNKNOWN : request.keepAlive);
    Optional<String> overContext = spec.contextExceeded(promptTokens, maxTokens);
    if (overContext.isPresent()) {
      requests.refused(request, now, overContext.get());
      throw HostException.invalid(overContext.get(), "context_length_exceeded");
    }
    if (draining) {
      requests.refused(request, now, "draining");
      throw HostException.unavailable("the server is shutting down; try again on another or later", 5);
    }
    requests.add(request);
    Lifecycle.Arrival arrival = lifecycle.arrive(request.id, now);
    if (arrival.admission() == Dispatcher.Admission.REJECTED) {
      requests.remove(request.id);
      requests.refused(request, now, "queue full");
      throw HostException.unavailable("the server is busy: " + settings.maxQueue()
          + " requests already wait (MLX_MAX_QUEUE); try again later", 1);
    }
    return arrival.events();
  }

  /** A request leaves unserved: from the queue, or holding a worker (it gives it back and lets go of its model). */
  private List<CacheEvent> leave(Pending request, HostException why, long now) {
    if (request.done || !requests.contains(request.id)) {
      return List.of();
    }
    TraceEvent.Status status = InFlight.statusOf(why);
    if (lifecycle.leaveQueue(request.id)) {
      requests.remove(request.id);
      requests.ended(request, status, Pending.NOT_READY, TraceEvent.UNKNOWN, why.getMessage(), now);
      return List.of();
    }
    return release(request, status, Pending.NOT_READY, TraceEvent.UNKNOWN, why.getMessage(), now);
  }

  /**
   * The lifecycle's gate: what may stop a request with a worker before it asks the cache (a cancelled
   * request; a model that failed to load a moment ago; a model whose files are wrong, checked before
   * the core may evict anything for it: {@link ModelLoading#refusal}). Null lets it ask.
   */
  private String refusal(long id, String model, long now) {
    Pending request = requests.get(id);
    HostException refused = request.cancelled
        ? HostException.cancelled("the request was cancelled: the server is shutting down")
        : loading.refusal(model, now);
    request.refusal = refused;
    return refused == null ? null : refused.getMessage();
  }

  /**
   * The request, holding a worker, is done: its pin and its worker are released, and the worker goes
   * to the next queued request in the same step; returns what the core decided.
   */
  private List<CacheEvent> release(Pending request, TraceEvent.Status status, long ready, long outputTokens, String error,
      long now) {
    if (request.done || requests.remove(request.id) == null) {
      return List.of();
    }
    request.inCache = false;
    List<CacheEvent> events = lifecycle.finish(request.id, now);
    requests.ended(request, status, ready, outputTokens, error, now);
    return events;
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw HostException.cancelled("the request was interrupted while it waited");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof HostException h) {
        throw h;
      }
      throw new HostException(503, String.valueOf(e.getCause().getMessage()));
    }
  }

  // ---- periodic work ----

  /**
   * The cleanup tick, now: idle TTL and keep-alives, count cap, then the pressure rule. The schedule
   * calls it every MLX_CACHE_CLEANUP_INTERVAL_SEC; a test on a fake clock calls it itself. A failure is
   * logged and counted; the next tick runs.
   */
  public void tick() {
    try {
      decide(now -> {
        trace.tick(now);
        List<CacheEvent> events = new ArrayList<>(lifecycle.tick(now));
        if (pressureRule) {
          MemoryProbe.Reading reading = housekeeping.readMemory();
          events.addAll(lifecycle.memoryObserved(reading.hostUsedBytes(), reading.hostTotalBytes(), now));
        }
        return events;
      });
    } catch (RuntimeException | Error e) {
      LOG.error("a cleanup tick failed; the next one runs on schedule", e);
      metrics.internalErrors.labelValues("cleanup").inc();
    }
  }

  /** The metrics in Prometheus text, the process's RSS read now. */
  public String scrapeMetrics() {
    return housekeeping.scrapeMetrics();
  }

  // ---- admin ----

  /** What the cache holds now, for /admin/cache and /api/ps. */
  public record Snapshot(List<CachedModel> models, long residentBytes, int waitingForRoom, int queued, int busyWorkers,
      long nowNanos) {}

  public Snapshot snapshot() {
    lock.lock();
    try {
      return new Snapshot(cache.cached(), cache.residentBytes(), cache.waitingRequests(), dispatcher.queued(),
          dispatcher.busy(), ticker.read());
    } finally {
      lock.unlock();
    }
  }

  /** True when {@code model} (canonical) is resident or loading. */
  public boolean isCached(String model) {
    lock.lock();
    try {
      return loading.isCached(model);
    } finally {
      lock.unlock();
    }
  }

  /** Loads {@code model} now; returns what happened in one phrase, or throws 409/413/503 why not. */
  public String load(String model, LoadCause cause) {
    List<CacheEvent> events = decide(now -> {
      if (!loading.isCached(model)) {
        loading.checkFiles(model);
      }
      return lifecycle.load(model, cause, now);
    });
    for (CacheEvent e : events) {
      if (e instanceof LoadSkipped s) {
        switch (s.reason()) {
          case ALREADY_CACHED -> { return "already cached"; }
          case TOO_LARGE -> throw new HostException(413, model + " is larger than MLX_MAX_CACHE_BYTES ("
              + ByteSize.format(settings.cache().maxBytes()) + ")");
          default -> throw new HostException(409, "no room for " + model + ": the cached models are in use or loading");
        }
      }
    }
    return "loading";
  }

  /** Unloads {@code model}; throws 404 when not cached, 409 while it loads or serves a request. */
  public String unload(String model) {
    List<CacheEvent> events = decide(now -> lifecycle.unload(model, now));
    for (CacheEvent e : events) {
      if (e instanceof UnloadRefused r) {
        switch (r.reason()) {
          case NOT_CACHED -> throw new HostException(404, model + " is not loaded");
          case LOADING -> throw new HostException(409, model + " is loading; unload it when the load ends");
          default -> throw new HostException(409, model + " is serving a request; unload it when it is idle");
        }
      }
    }
    return "unloaded";
  }

  /** Nanoseconds since the host started, on its ticker. */
  public long uptimeNanos() {
    return ticker.read() - startNanos;
  }

  /** The metrics. */
  public ServerMetrics metrics() {
    return metrics;
  }

  // ---- stopping ----

  /**
   * Stops taking requests (new ones get 503 with {@code Retry-After}), lets those in flight finish for
   * up to {@code grace}, then cancels the rest — queued, waiting for a model or generating — and waits
   * a little for them to be recorded {@code cancelled}. Returns how many were cancelled.
   */
  public int drain(Duration grace) {
    lock.lock();
    try {
      draining = true;
      requests.awaitEmpty(grace);
      int cancelled = requests.size();
      for (Pending p : requests.all()) {
        p.cancelled = true;
        p.ready.completeExceptionally(HostException.cancelled("the request was cancelled: the server is shutting down"));
      }
      requests.awaitEmpty(CANCEL_WAIT);
      return cancelled;
    } finally {
      lock.unlock();
    }
  }

  /** Requests admitted and not yet finished. */
  public int inFlight() {
    lock.lock();
    try {
      return requests.size();
    } finally {
      lock.unlock();
    }
  }

  /** Stops the schedules, writes the trace's end and closes every model. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    housekeeping.close();
    loading.stopLoading();
    lock.lock();
    try {
      trace.end(ticker.read());
      loading.close();
    } finally {
      lock.unlock();
    }
  }
}
