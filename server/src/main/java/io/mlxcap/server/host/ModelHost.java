package io.mlxcap.server.host;

import io.mlxcap.ByteSize;
import io.mlxcap.cache.CacheEvent;
import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Hit;
import io.mlxcap.cache.CacheEvent.LoadFailed;
import io.mlxcap.cache.CacheEvent.LoadSkipped;
import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Ready;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CacheEvent.UnloadRefused;
import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.lifecycle.Dispatcher;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.server.model.SynthModelFile;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
import java.util.concurrent.locks.ReentrantLock;

/**
 * The server's shell around the cache core: one lock around {@link ModelCache} and
 * {@link Dispatcher}; their decisions are carried out outside it — loads on a loader pool, unloads
 * on the thread that got the decision — and recorded in the trace and the metrics.
 *
 * <h2>A request's path</h2>
 * {@link #begin} records the arrival, takes a worker or waits in the FIFO queue (or is refused with
 * 503), asks the cache for its model and waits until the model is ready: a hit, a load it joined or
 * started, or room freed for it. It returns a {@link Lease}; the caller generates with the lease's
 * model and closes the lease, which releases the pin and hands the worker to the next queued request.
 *
 * <h2>Safety</h2>
 * A model is only closed after the core evicted it, and the core never evicts a pinned model, so no
 * generation ever runs on a closed model. Loading and closing the same model take that model's lock,
 * so a new load waits for the old instance to be closed. The pressure rule is fed after every load
 * and at every cleanup tick, as in the simulator.
 */
public final class ModelHost implements AutoCloseable {
  private final Settings settings;
  private final ModelTable table;
  private final Path modelsDir;
  private final Ticker ticker;
  private final MemoryProbe probe = new MemoryProbe();
  private final ServerMetrics metrics;
  private final TraceRecorder trace;
  private final long startNanos;

  private final ReentrantLock lock = new ReentrantLock();
  private final ModelCache cache;
  private final Dispatcher dispatcher;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Map<String, LoadedModel> instances = new HashMap<>();
  private final Map<String, Long> loadStarts = new HashMap<>();
  private final Map<String, LoadCause> loadCauses = new HashMap<>();
  private final Map<String, Object> modelLocks = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();

  private final ExecutorService loaders = Executors.newCachedThreadPool(daemon("mlxcap-loader"));
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(daemon("mlxcap-cleanup"));
  private volatile boolean closed;

  /** A request between arrival and release. */
  private static final class Pending {
    final long id;
    final String traceId;
    final String model;
    final long arrival;
    final CompletableFuture<Void> worker = new CompletableFuture<>();
    final CompletableFuture<LoadedModel> ready = new CompletableFuture<>();
    long workerStart;
    boolean inCache;
    boolean hit = true;

    Pending(long id, String model, long arrival) {
      this.id = id;
      this.traceId = "r" + id;
      this.model = model;
      this.arrival = arrival;
    }
  }

  /**
   * A host for the models of {@code table}, found under {@code modelsDir}, recording to {@code traceFile}
   * (none when null); start it with {@link #start}.
   */
  public ModelHost(Settings settings, ModelTable table, Path modelsDir, Ticker ticker, Path traceFile, ServerMetrics metrics) {
    this.settings = settings;
    this.table = table;
    this.modelsDir = modelsDir.toAbsolutePath().normalize();
    this.ticker = ticker;
    this.metrics = metrics;
    this.startNanos = ticker.read();
    this.cache = ModelCache.create(settings.cache(), m -> table.resolve(m).residentBytes(io.mlxcap.model.SizeRange.Estimate.EXPECTED));
    this.dispatcher = new Dispatcher(settings.maxConcurrentRequests(), settings.maxQueue());
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

  /** Preloads, then runs the cleanup tick and memory sampling on their schedules. */
  public void start(java.time.Duration memorySample) {
    List<Runnable> actions = new ArrayList<>();
    lock.lock();
    try {
      long now = ticker.read();
      act(cache.preload(settings.preloadModels(), now), now, actions);
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
    long interval = settings.cleanupInterval().toMillis();
    if (interval > 0) {
      scheduler.scheduleAtFixedRate(this::tick, interval, interval, TimeUnit.MILLISECONDS);
    }
    if (!memorySample.isZero()) {
      scheduler.scheduleAtFixedRate(this::sampleMemory, 0, memorySample.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The model a name or alias stands for; 404 naming the known ones otherwise. */
  public ModelSpec resolve(String asked) {
    return table.find(asked).orElseThrow(() -> new HostException(404,
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
    }

    /** The loaded model to generate with. */
    public LoadedModel model() {
      return model;
    }

    /** The request's id in the trace. */
    public String id() {
      return request.traceId;
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

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      finish(request, status, ready, outputTokens, error);
    }
  }

  /**
   * Admits a request for {@code model} (canonical) as asked by the client ({@code asked}): waits for a
   * worker and for the model, and returns the lease.
   *
   * @throws HostException 503 when the queue is full or the model's load failed, 413 when the model
   *     is larger than the byte budget
   */
  public Lease begin(String asked, String model, long promptTokens, long maxTokens) {
    long id = ids.incrementAndGet();
    Pending request;
    lock.lock();
    try {
      long now = ticker.read();
      request = new Pending(id, model, now);
      trace.request(now, request.traceId, asked, promptTokens, maxTokens);
      switch (dispatcher.arrive(id)) {
        case START -> request.worker.complete(null);
        case QUEUED -> pending.put(id, request);
        case REJECTED -> {
          trace.done(now, request.traceId, TraceEvent.Status.REJECTED, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
              TraceEvent.UNKNOWN, TraceEvent.UNKNOWN, "queue full");
          metrics.requests.labelValues("rejected").inc();
          throw new HostException(503, "the server is busy: " + settings.maxQueue()
              + " requests already wait (MLX_MAX_QUEUE); try again later");
        }
      }
      metrics.waiting.set(dispatcher.queued());
    } finally {
      lock.unlock();
    }
    await(request.worker);
    List<Runnable> actions = new ArrayList<>();
    lock.lock();
    try {
      long now = ticker.read();
      request.workerStart = now;
      request.inCache = true;
      pending.put(id, request);
      act(cache.request(id, model, now), now, actions);
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
    try {
      LoadedModel loaded = await(request.ready);
      long ready = ticker.read();
      if (!request.hit) {
        metrics.coldStartWait.observe((ready - request.workerStart) / 1e9);
      }
      return new Lease(request, loaded, ready);
    } catch (HostException e) {
      finish(request, e.status() == 413 ? TraceEvent.Status.REJECTED : TraceEvent.Status.ERROR, ticker.read(),
          TraceEvent.UNKNOWN, e.getMessage());
      throw e;
    }
  }

  private void finish(Pending request, TraceEvent.Status status, long ready, long outputTokens, String error) {
    List<Runnable> actions = new ArrayList<>();
    lock.lock();
    try {
      long now = ticker.read();
      pending.remove(request.id);
      if (request.inCache) {
        act(cache.release(request.id, now), now, actions);
      }
      long next = dispatcher.finished();
      if (next != Dispatcher.NONE) {
        pending.get(next).worker.complete(null);
      }
      metrics.waiting.set(dispatcher.queued());
      trace.done(now, request.traceId, status, request.workerStart - request.arrival, ready - request.workerStart,
          now - ready, outputTokens, error);
      metrics.requests.labelValues(status.name().toLowerCase(java.util.Locale.ROOT)).inc();
      metrics.latency.observe((now - request.arrival) / 1e9);
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HostException(503, "interrupted while waiting");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof HostException h) {
        throw h;
      }
      throw new HostException(503, e.getCause().getMessage());
    }
  }

  // ---- carrying out the core's decisions (called under the lock; I/O goes into actions) ----

  private void act(List<CacheEvent> events, long now, List<Runnable> actions) {
    for (CacheEvent event : events) {
      if (event instanceof Hit h) {
        Pending p = pending.get(h.requestId());
        p.ready.complete(instances.get(h.model()));
      } else if (event instanceof Ready r) {
        pending.get(r.requestId()).ready.complete(instances.get(r.model()));
      } else if (event instanceof CacheEvent.Joined j) {
        pending.get(j.requestId()).hit = false;
      } else if (event instanceof CacheEvent.Waiting w) {
        pending.get(w.requestId()).hit = false;
      } else if (event instanceof Rejected r) {
        Pending p = pending.get(r.requestId());
        p.inCache = false;
        p.ready.completeExceptionally(r.reason() == CacheEvent.RejectReason.TOO_LARGE
            ? new HostException(413, r.detail())
            : new HostException(503, "model " + r.model() + " could not be loaded: " + r.detail()));
      } else if (event instanceof LoadStarted s) {
        if (s.requestId() != CacheEvent.NO_REQUEST) {
          pending.get(s.requestId()).hit = false;
        }
        loadStarts.put(s.model(), now);
        loadCauses.put(s.model(), s.cause());
        trace.loadStart(now, s.model(), s.cause(), s.expectedBytes());
        actions.add(() -> loaders.execute(() -> load(s.model())));
      } else if (event instanceof CacheEvent.LoadFinished f) {
        long duration = now - loadStarts.remove(f.model());
        LoadCause cause = loadCauses.remove(f.model());
        trace.load(now, f.model(), cause, f.bytes(), duration);
        metrics.loads.labelValues(f.model(), cause.wireName()).inc();
        metrics.loadDuration.observe(duration / 1e9);
      } else if (event instanceof LoadFailed f) {
        long duration = now - loadStarts.remove(f.model());
        trace.loadFailed(now, f.model(), loadCauses.remove(f.model()), duration, f.error());
        metrics.loadFailures.labelValues(f.model()).inc();
      } else if (event instanceof Evicted e) {
        LoadedModel instance = instances.remove(e.model());
        trace.evict(now, e.model(), e.bytes(), e.reason());
        metrics.evictions.labelValues(e.model(), e.reason().wireName()).inc();
        actions.add(() -> closeModel(e.model(), instance));
        actions.add(this::sampleMemory);
      }
    }
    metrics.residentModels.set(cache.cached().stream().filter(c -> !c.loading()).count());
    metrics.residentBytes.set(cache.residentBytes());
  }

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
        loaded = LoadedModel.load(directoryOf(model));
      } catch (Exception | OutOfMemoryError e) {
        error = e.getMessage() == null ? e.toString() : e.getMessage();
      }
    }
    List<Runnable> actions = new ArrayList<>();
    lock.lock();
    try {
      long now = ticker.read();
      if (loaded != null) {
        instances.put(model, loaded);
        act(cache.loadSucceeded(model, loaded.bytes(), now), now, actions);
        MemoryProbe.Reading reading = probe.read();
        trace.memory(now, reading);
        metrics.rssBytes.set(reading.rssBytes());
        act(cache.memoryObserved(reading.hostUsedBytes(), reading.hostTotalBytes(), now), now, actions);
      } else {
        act(cache.loadFailed(model, error, now), now, actions);
      }
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
  }

  /** The folder of {@code model}: always inside the models folder, whatever the name holds. */
  Path directoryOf(String model) {
    Path dir = modelsDir.resolve(SynthModelFile.directoryFor(model)).normalize();
    if (!dir.startsWith(modelsDir) || dir.equals(modelsDir)) {
      throw new IllegalArgumentException("model " + model + " does not map into " + modelsDir);
    }
    return dir;
  }

  // ---- periodic work ----

  void tick() {
    List<Runnable> actions = new ArrayList<>();
    lock.lock();
    try {
      long now = ticker.read();
      act(cache.tick(now), now, actions);
      MemoryProbe.Reading reading = probe.read();
      act(cache.memoryObserved(reading.hostUsedBytes(), reading.hostTotalBytes(), now), now, actions);
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
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

  /** Loads {@code model} now; returns what happened in one phrase, or throws 409/413 why not. */
  public String load(String model, LoadCause cause) {
    List<Runnable> actions = new ArrayList<>();
    List<CacheEvent> events;
    lock.lock();
    try {
      long now = ticker.read();
      events = cache.load(model, cause, now);
      act(events, now, actions);
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
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
    List<Runnable> actions = new ArrayList<>();
    List<CacheEvent> events;
    lock.lock();
    try {
      long now = ticker.read();
      events = cache.unload(model, now);
      act(events, now, actions);
    } finally {
      lock.unlock();
    }
    actions.forEach(Runnable::run);
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
