package io.mlxcap.server.host;

import io.mlxcap.ByteSize;
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
import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.lifecycle.Dispatcher;
import io.mlxcap.lifecycle.Lifecycle;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.server.model.SynthModelFile;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
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
 * tried again before a back-off (5 s, doubling to 5 min) and its requests get 503 with
 * {@code Retry-After}. The pressure rule is fed after every load and at every cleanup tick, as in the
 * simulator, when the host's memory can be read.
 */
public final class ModelHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelHost.class);
  /** How long a model whose load failed is not tried again; doubles with each failure in a row, up to {@link #MAX_RETRY}. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);
  static final Duration MAX_RETRY = Duration.ofMinutes(5);
  /** After a drain's grace, how long cancelled requests get to stop and be recorded. */
  private static final Duration CANCEL_WAIT = Duration.ofSeconds(10);
  private static final long NOT_READY = Long.MIN_VALUE;

  private final Settings settings;
  private final ModelTable table;
  private final Path modelsDir;
  private final Ticker ticker;
  private final MemoryProbe probe;
  private final Loader loader;
  private final boolean pressureRule;
  private final List<String> warnings = new ArrayList<>();
  private final ServerMetrics metrics;
  private final TraceRecorder trace;
  private final long startNanos;

  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled whenever a request leaves: a drain waits on it. */
  private final Condition left = lock.newCondition();
  private final ModelCache cache;
  private final Dispatcher dispatcher;
  /** The cache and the dispatcher with the one rule for handing workers on: everything a request does to the core goes through it. */
  private final Lifecycle lifecycle;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Map<String, LoadedModel> instances = new HashMap<>();
  private final Map<String, Long> loadStarts = new HashMap<>();
  private final Map<String, LoadCause> loadCauses = new HashMap<>();
  private final Map<String, Backoff> backoff = new HashMap<>();
  private final Map<String, Object> modelLocks = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  /** True while a heap trim is queued: requests that end meanwhile share it. */
  private final java.util.concurrent.atomic.AtomicBoolean trimQueued = new java.util.concurrent.atomic.AtomicBoolean();
  /** How long after a request ends the heap is trimmed, if no generation runs then. */
  static final long TRIM_QUIET_MS = 20;
  /** Loads in progress (written under the lock, read by the trim's schedule). */
  private volatile int loadsRunning;
  /** Leases not yet closed: generations running. */
  private final java.util.concurrent.atomic.AtomicInteger openLeases = new java.util.concurrent.atomic.AtomicInteger();
  private volatile long lastTrim = System.nanoTime();
  private boolean draining;

  private final ExecutorService loaders = Executors.newCachedThreadPool(daemon("mlxcap-loader"));
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(daemon("mlxcap-cleanup"));
  private volatile boolean closed;

  /** A model whose load failed: not tried again before {@code until} (ticker time). */
  private record Backoff(long until, int failures) {}

  /** A request between arrival and the end of its answer. */
  private static final class Pending {
    final long id;
    final String traceId;
    final String model;
    final long keepAlive;
    /** Completed when its model is ready (with the model), or exceptionally when it cannot be served or is cancelled. */
    final CompletableFuture<LoadedModel> ready = new CompletableFuture<>();
    long arrival;
    long workerStart = NOT_READY;
    /** The time of the decision that made its model ready (Hit or Ready): its service counts from there. */
    long readyAt = NOT_READY;
    boolean inCache;
    boolean hit = true;
    /** Recorded as done already (the core rejected it); nothing is left to release. */
    boolean done;
    /** Why the lifecycle's gate refused it, for its answer. */
    HostException refusal;
    volatile boolean cancelled;

    Pending(long id, String model, long keepAlive) {
      this.id = id;
      this.traceId = "r" + id;
      this.model = model;
      this.keepAlive = keepAlive;
    }
  }

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
    this.loader = loader;
    this.settings = settings;
    this.table = table;
    this.modelsDir = modelsDir.toAbsolutePath().normalize();
    this.ticker = ticker;
    this.metrics = metrics;
    this.probe = probe;
    this.startNanos = ticker.read();
    this.cache = ModelCache.create(settings.cache(), m -> table.resolve(m).residentBytes(SizeRange.Estimate.EXPECTED));
    this.dispatcher = new Dispatcher(settings.maxConcurrentRequests(), settings.maxQueue());
    this.lifecycle = new Lifecycle(cache, dispatcher, new Lifecycle.Requests() {
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
    }, this::refusal);
    boolean wantsPressure = settings.cache().pressureThreshold() != io.mlxcap.cache.CachePolicy.NO_PRESSURE_THRESHOLD;
    this.pressureRule = probe.readsHostMemory();
    if (!pressureRule && wantsPressure) {
      warnings.add("cannot read the host's memory (/proc/meminfo): MLX_MEMORY_PRESSURE_THRESHOLD is not enforced");
    }
    MemoryProbe.Reading host = probe.read();
    this.trace = TraceRecorder.open(traceFile, new TraceHeader(Optional.of(Instant.now().toString()),
        Optional.of("mlxcap serve " + modelsDir), host.hostTotalBytes(), Runtime.getRuntime().availableProcessors(),
        settings.toEnv(), Optional.of(table)), startNanos);
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
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
    long interval = settings.cleanupInterval().toMillis();
    if (interval > 0) {
      scheduler.scheduleAtFixedRate(this::tick, interval, interval, TimeUnit.MILLISECONDS);
    }
    if (!memorySample.isZero()) {
      scheduler.scheduleAtFixedRate(this::sampleMemory, 0, memorySample.toMillis(), TimeUnit.MILLISECONDS);
    }
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
      acting = new Acting(now);
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

  /** What each decision of the core means to the server: under the lock, with the I/O kept for after. */
  private final class Acting implements CacheActions {
    private final long now;
    private final List<Runnable> io = new ArrayList<>(0);

    Acting(long now) {
      this.now = now;
    }

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
      Pending p = pending.get(id);
      if (p != null) {
        p.readyAt = now;
        p.ready.complete(instances.get(model));
      }
    }

    @Override
    public void joined(Joined e) {
      pending.get(e.requestId()).hit = false;
    }

    @Override
    public void waiting(Waiting e) {
      pending.get(e.requestId()).hit = false;
    }

    /** The lifecycle has handed its worker on already: the request is answered and recorded now. */
    @Override
    public void rejected(Rejected e) {
      Pending p = pending.remove(e.requestId());
      p.inCache = false;
      p.done = true;
      HostException why = switch (e.reason()) {
        case TOO_LARGE -> new HostException(413, e.detail());
        case LOAD_FAILED -> HostException.unavailable("model " + e.model() + " could not be loaded: " + e.detail(),
            retryAfter(e.model(), now));
        case UNAVAILABLE -> p.refusal;
      };
      record(p, statusOf(why), NOT_READY, TraceEvent.UNKNOWN, why.getMessage(), now);
      left.signalAll();
      p.ready.completeExceptionally(why);
    }

    @Override
    public void loadStarted(LoadStarted e) {
      if (e.requestId() != CacheEvent.NO_REQUEST) {
        pending.get(e.requestId()).hit = false;
      }
      loadStarts.put(e.model(), now);
      loadsRunning = loadStarts.size();
      loadCauses.put(e.model(), e.cause());
      trace.loadStart(now, e.model(), e.cause(), e.expectedBytes());
      io.add(() -> loaders.execute(() -> load(e.model())));
    }

    @Override
    public void loadFinished(LoadFinished e) {
      long duration = now - loadStarts.remove(e.model());
      loadsRunning = loadStarts.size();
      LoadCause cause = loadCauses.remove(e.model());
      backoff.remove(e.model());
      trace.load(now, e.model(), cause, e.bytes(), duration);
      metrics.loads.labelValues(e.model(), cause.wireName()).inc();
      metrics.loadDuration.observe(duration / 1e9);
    }

    @Override
    public void loadFailed(LoadFailed e) {
      long duration = now - loadStarts.remove(e.model());
      loadsRunning = loadStarts.size();
      trace.loadFailed(now, e.model(), loadCauses.remove(e.model()), duration, e.error());
      metrics.loadFailures.labelValues(e.model()).inc();
      Backoff before = backoff.get(e.model());
      int failures = before == null ? 1 : before.failures() + 1;
      long wait = Math.min(MAX_RETRY.toNanos(), FIRST_RETRY.toNanos() << Math.min(failures - 1, 20));
      backoff.put(e.model(), new Backoff(now + wait, failures));
    }

    @Override
    public void evicted(Evicted e) {
      LoadedModel instance = instances.remove(e.model());
      trace.evict(now, e.model(), e.bytes(), e.reason());
      metrics.evictions.labelValues(e.model(), e.reason().wireName()).inc();
      io.add(() -> closeModel(e.model(), instance));
      io.add(ModelHost.this::sampleMemory);
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
      openLeases.incrementAndGet();
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
      openLeases.decrementAndGet();
      finish(request, status, ready, outputTokens, error);
      trimSoon();
    }
  }

  /**
   * Gives the memory generations freed back to the system, once the server is quiet. glibc keeps the
   * small blocks a generation frees in its heap: measured, RSS sat about 85 MB above the models after
   * back-to-back generations on two resident models, and went back with a trim, which keeps the
   * process at its base plus its models, as the simulator's memory model says. But a trim walks the
   * heap holding glibc's lock: run right after every request, it slowed the next request's generation
   * and answer by 1.5–2 ms (bench-server, p50), and it slows a load running beside it. So it runs
   * {@value #TRIM_QUIET_MS} ms after a request ends if no generation and no load is running then, and
   * during unbroken traffic at most once a second.
   */
  private void trimSoon() {
    if (trimQueued.compareAndSet(false, true)) {
      try {
        scheduler.schedule(this::trimIfQuiet, TRIM_QUIET_MS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        trimQueued.set(false);
      }
    }
  }

  private void trimIfQuiet() {
    trimQueued.set(false);
    long now = System.nanoTime();
    if ((openLeases.get() > 0 || loadsRunning > 0) && now - lastTrim < TimeUnit.SECONDS.toNanos(1)) {
      trimSoon(); // a generation or a load is running: look again shortly
      return;
    }
    lastTrim = now;
    try {
      loaders.execute(io.mlxcap.server.model.DjlEngine::trim);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // shutting down
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
    public CompletableFuture<Lease> whenStarted(java.util.concurrent.Executor executor) {
      return whenStarted(executor, false);
    }

    /**
     * As {@link #whenStarted(java.util.concurrent.Executor)}; but with {@code hereIfReady}, a request
     * whose model was ready at once (a worker free, the model resident) gets its lease on the calling
     * thread, in an already completed future: the hit path with no hand-off between threads. Anything
     * that has to wait (the queue, a load) completes on {@code executor}, holding no thread until then.
     */
    public CompletableFuture<Lease> whenStarted(java.util.concurrent.Executor executor, boolean hereIfReady) {
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

  private static TraceEvent.Status statusOf(HostException e) {
    return e.cancelled() ? TraceEvent.Status.CANCELLED
        : e.status() == 413 ? TraceEvent.Status.REJECTED : TraceEvent.Status.ERROR;
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
      refuse(request, now, overContext.get());
      throw HostException.invalid(overContext.get(), "context_length_exceeded");
    }
    if (draining) {
      refuse(request, now, "draining");
      throw HostException.unavailable("the server is shutting down; try again on another or later", 5);
    }
    pending.put(request.id, request);
    Lifecycle.Arrival arrival = lifecycle.arrive(request.id, now);
    if (arrival.admission() == Dispatcher.Admission.REJECTED) {
      pending.remove(request.id);
      refuse(request, now, "queue full");
      throw HostException.unavailable("the server is busy: " + settings.maxQueue()
          + " requests already wait (MLX_MAX_QUEUE); try again later", 1);
    }
    return arrival.events();
  }

  private void refuse(Pending request, long now, String why) {
    trace.done(now, request.traceId, TraceEvent.Status.REJECTED, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
        TraceEvent.UNKNOWN, TraceEvent.UNKNOWN, why);
    metrics.requests.labelValues("rejected").inc();
  }

  /** A request leaves unserved: from the queue, or holding a worker (it gives it back and lets go of its model). */
  private List<CacheEvent> leave(Pending request, HostException why, long now) {
    if (request.done || !pending.containsKey(request.id)) {
      return List.of();
    }
    if (lifecycle.leaveQueue(request.id)) {
      pending.remove(request.id);
      record(request, statusOf(why), NOT_READY, TraceEvent.UNKNOWN, why.getMessage(), now);
      left.signalAll();
      return List.of();
    }
    return release(request, statusOf(why), NOT_READY, TraceEvent.UNKNOWN, why.getMessage(), now);
  }

  /**
   * The lifecycle's gate: what may stop a request with a worker before it asks the cache (a cancelled
   * request; a model that failed to load a moment ago; a model whose files are wrong, checked before
   * the core may evict anything for it). Null lets it ask.
   */
  private String refusal(long id, String model, long now) {
    Pending request = pending.get(id);
    HostException refused = null;
    if (request.cancelled) {
      refused = HostException.cancelled("the request was cancelled: the server is shutting down");
    } else {
      Backoff failed = backoff.get(model);
      if (failed != null && now < failed.until() && !instances.containsKey(model)) {
        refused = HostException.unavailable("model " + model + " failed to load " + failed.failures()
            + (failed.failures() == 1 ? " time" : " times in a row") + "; it is tried again in "
            + seconds(failed.until() - now) + " s", seconds(failed.until() - now));
      } else if (!instances.containsKey(model) && !loadStarts.containsKey(model)) {
        try {
          checkFiles(model);
        } catch (HostException e) {
          refused = e;
        }
      }
    }
    request.refusal = refused;
    return refused == null ? null : refused.getMessage();
  }

  private long retryAfter(String model, long now) {
    Backoff failed = backoff.get(model);
    return failed == null ? 1 : seconds(failed.until() - now);
  }

  private static long seconds(long nanos) {
    return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
  }

  /** Checks the model's files before the cache may evict anything for it: 503 saying what is wrong. */
  private void checkFiles(String model) {
    try {
      LoadedModel.check(directoryOf(model));
    } catch (IOException | IllegalArgumentException e) {
      throw HostException.unavailable("model " + model + " cannot be loaded: " + clientSafe(e.getMessage()), 60);
    }
  }

  private void finish(Pending request, TraceEvent.Status status, long ready, long outputTokens, String error) {
    decide(now -> release(request, status, ready, outputTokens, error, now));
  }

  /**
   * The request, holding a worker, is done: its pin and its worker are released, and the worker goes
   * to the next queued request in the same step; returns what the core decided.
   */
  private List<CacheEvent> release(Pending request, TraceEvent.Status status, long ready, long outputTokens, String error,
      long now) {
    if (request.done || pending.remove(request.id) == null) {
      return List.of();
    }
    request.inCache = false;
    List<CacheEvent> events = lifecycle.finish(request.id, now);
    record(request, status, ready, outputTokens, error, now);
    left.signalAll();
    return events;
  }

  private void record(Pending request, TraceEvent.Status status, long ready, long outputTokens, String error, long now) {
    boolean started = request.workerStart != NOT_READY;
    boolean served = ready != NOT_READY;
    trace.done(now, request.traceId, status, (started ? request.workerStart : now) - request.arrival,
        started ? (served ? ready : now) - request.workerStart : TraceEvent.UNKNOWN,
        served ? now - ready : TraceEvent.UNKNOWN, outputTokens, error);
    metrics.requests.labelValues(status.name().toLowerCase(Locale.ROOT)).inc();
    metrics.latency.observe((now - request.arrival) / 1e9);
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

  // ---- loading and closing ----

  private Object modelLock(String model) {
    return modelLocks.computeIfAbsent(model, m -> new Object());
  }

  private void closeModel(String model, LoadedModel instance) {
    if (instance != null) {
      synchronized (modelLock(model)) {
        instance.close();
      }
    }
  }

  /** Loads {@code model} on a loader thread, then tells the core. */
  private void load(String model) {
    LoadedModel loaded = null;
    String error = null;
    synchronized (modelLock(model)) {
      try {
        loaded = loader.load(directoryOf(model));
      } catch (IOException e) {
        error = clientSafe(e.getMessage());
      } catch (RuntimeException | OutOfMemoryError e) {
        LOG.error("loading {} failed", model, e);
        error = "the weights could not be loaded (" + e.getClass().getSimpleName() + "; the server log has the details)";
      }
    }
    LoadedModel instance = loaded;
    String reason = error;
    decide(now -> {
      if (instance == null) {
        return lifecycle.loadFailed(model, reason, now);
      }
      instances.put(model, instance);
      List<CacheEvent> events = new ArrayList<>(lifecycle.loadSucceeded(model, instance.bytes(), now));
      MemoryProbe.Reading reading = probe.read();
      trace.memory(now, reading);
      metrics.rssBytes.set(reading.rssBytes());
      if (pressureRule) {
        events.addAll(lifecycle.memoryObserved(reading.hostUsedBytes(), reading.hostTotalBytes(), now));
      }
      return events;
    });
  }

  /** The folder of {@code model}: always inside the models folder, whatever the name holds. */
  Path directoryOf(String model) {
    Path dir = modelsDir.resolve(SynthModelFile.directoryFor(model)).normalize();
    if (!dir.startsWith(modelsDir) || dir.equals(modelsDir)) {
      throw new IllegalArgumentException("model " + model + " does not map into the models folder");
    }
    return dir;
  }

  /** {@code message} with the models folder's absolute path taken out: a client sees paths relative to it. */
  private String clientSafe(String message) {
    return message == null ? "unknown error" : message.replace(modelsDir + java.io.File.separator, "")
        .replace(modelsDir.toString(), "the models folder");
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
          MemoryProbe.Reading reading = probe.read();
          events.addAll(lifecycle.memoryObserved(reading.hostUsedBytes(), reading.hostTotalBytes(), now));
        }
        return events;
      });
    } catch (RuntimeException | Error e) {
      LOG.error("a cleanup tick failed; the next one runs on schedule", e);
      metrics.internalErrors.labelValues("cleanup").inc();
    }
  }

  private void sampleMemory() {
    MemoryProbe.Reading reading = probe.read();
    metrics.rssBytes.set(reading.rssBytes());
    lock.lock();
    try {
      trace.memory(ticker.read(), reading);
    } finally {
      lock.unlock();
    }
  }

  /** The metrics in Prometheus text, the process's RSS read now. */
  public String scrapeMetrics() {
    metrics.rssBytes.set(probe.read().rssBytes());
    return metrics.scrape();
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
      return instances.containsKey(model) || loadStarts.containsKey(model);
    } finally {
      lock.unlock();
    }
  }

  /** Loads {@code model} now; returns what happened in one phrase, or throws 409/413/503 why not. */
  public String load(String model, LoadCause cause) {
    List<CacheEvent> events = decide(now -> {
      if (!instances.containsKey(model) && !loadStarts.containsKey(model)) {
        checkFiles(model);
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
      awaitEmpty(grace);
      int cancelled = pending.size();
      for (Pending p : pending.values()) {
        p.cancelled = true;
        p.ready.completeExceptionally(HostException.cancelled("the request was cancelled: the server is shutting down"));
      }
      awaitEmpty(CANCEL_WAIT);
      return cancelled;
    } finally {
      lock.unlock();
    }
  }

  private void awaitEmpty(Duration limit) {
    long left = limit.toNanos();
    try {
      while (!pending.isEmpty() && left > 0) {
        left = this.left.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Requests admitted and not yet finished. */
  public int inFlight() {
    lock.lock();
    try {
      return pending.size();
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
    scheduler.shutdownNow();
    loaders.shutdown();
    try {
      loaders.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      trace.end(ticker.read());
      instances.values().forEach(LoadedModel::close);
      instances.clear();
    } finally {
      lock.unlock();
    }
  }
}
