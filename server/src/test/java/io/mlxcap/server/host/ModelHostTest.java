package io.mlxcap.server.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.TestModels;
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.FakeTicker;
import io.mlxcap.time.Ticker;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's request path on a fake clock, with leases held open by the test in place of a
 * generation: queueing, leaving the queue, draining, back-off, the cleanup tick's failures, keep-alive.
 * Nothing here waits for time to pass; where a thread must reach a state, the test waits for the state.
 */
final class ModelHostTest {
  private final ExecutorService threads = Executors.newCachedThreadPool();
  @TempDir Path dir;

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private static Settings settings(String... env) {
    Map<String, String> map = new HashMap<>(Map.of("MLX_PRELOAD_MODELS", "", "MLX_MEMORY_PRESSURE_THRESHOLD", "off"));
    for (int i = 0; i < env.length; i += 2) {
      map.put(env[i], env[i + 1]);
    }
    return Settings.fromEnv(map, TestModels.table());
  }

  private ModelHost host(Ticker ticker, Path modelsDir, ModelHost.Loader loader, String... env) {
    ModelHost host = new ModelHost(settings(env), TestModels.table(), modelsDir, ticker, dir.resolve("trace.jsonl"),
        new ServerMetrics(), new MemoryProbe(), loader);
    host.start(Duration.ZERO);
    return host;
  }

  private ModelHost host(FakeTicker ticker, String... env) {
    return host(ticker, TestModels.dir(), LoadedModel::load, env);
  }

  private static ModelSpec fast() {
    return TestModels.table().resolve("fast");
  }

  private Future<ModelHost.Lease> beginLater(ModelHost host, ModelSpec spec) {
    return threads.submit(() -> host.begin(spec.name(), spec, 4, 4, ModelCache.KEEP_ALIVE_DEFAULT));
  }

  private static void waitFor(BooleanSupplier state, String what) throws InterruptedException {
    for (int i = 0; i < 2000 && !state.getAsBoolean(); i++) {
      Thread.sleep(5);
    }
    assertTrue(state.getAsBoolean(), what);
  }

  private List<TraceEvent> trace() {
    try (TraceReader reader = TraceReader.open(dir.resolve("trace.jsonl"), TraceReader.Mode.STRICT)) {
      return reader.events().collect(Collectors.toList());
    }
  }

  private Map<String, TraceEvent.Status> outcomes() {
    return trace().stream().filter(e -> e instanceof TraceEvent.RequestDone).map(e -> (TraceEvent.RequestDone) e)
        .collect(Collectors.toMap(TraceEvent.RequestDone::id, TraceEvent.RequestDone::status));
  }

  private static Throwable cause(Future<?> future) {
    try {
      future.get();
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  // The hit path: a worker free and the model resident gives the lease on the calling thread, in a
  // completed future, without touching the executor; a miss (or a full set of workers) still waits there.
  @Test
  void hitWithAFreeWorker_isLeasedOnTheCallingThread_missesWaitOnTheExecutor() throws Exception {
    FakeTicker ticker = new FakeTicker();
    try (ModelHost host = host(ticker, "MLX_MAX_CONCURRENT_REQUESTS", "1")) {
      java.util.concurrent.atomic.AtomicInteger handedOver = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.Executor counting = task -> {
        handedOver.incrementAndGet();
        threads.execute(task);
      };
      ModelHost.Admission miss = host.admit("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
      java.util.concurrent.CompletableFuture<ModelHost.Lease> loading = miss.whenStarted(counting, true);
      ModelHost.Lease first = loading.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(1, handedOver.get(), "the load was waited for on the executor");
      first.succeeded(1);
      first.close();

      ModelHost.Admission hit = host.admit("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
      java.util.concurrent.CompletableFuture<ModelHost.Lease> here = hit.whenStarted(counting, true);
      assertTrue(here.isDone(), "a hit is leased at once");
      assertEquals(1, handedOver.get(), "without a hand-off");
      ModelHost.Lease second = here.get();

      ModelHost.Admission queued = host.admit("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
      java.util.concurrent.CompletableFuture<ModelHost.Lease> later = queued.whenStarted(counting, true);
      assertTrue(!later.isDone(), "the one worker is busy: it waits");
      second.succeeded(1);
      second.close();
      ModelHost.Lease third = later.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(2, handedOver.get(), "and its wait ran on the executor");
      third.succeeded(1);
      third.close();
    }
  }

  @Test
  void queuedRequestInterrupted_leavesTheQueue_andItsWorkerIsNotLost() throws Exception {
    FakeTicker ticker = new FakeTicker();
    try (ModelHost host = host(ticker, "MLX_MAX_CONCURRENT_REQUESTS", "1")) {
      ModelHost.Lease first = host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
      Future<ModelHost.Lease> queued = beginLater(host, fast());
      waitFor(() -> host.snapshot().queued() == 1, "the second request waits for the one worker");
      queued.cancel(true); // interrupts the waiting thread, as Jetty does when it stops
      waitFor(() -> host.inFlight() == 1, "the interrupted request left");
      assertEquals(0, host.snapshot().queued(), "and left the dispatcher's queue");
      first.succeeded(4);
      first.close();
      ModelHost.Lease third = host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
      assertEquals(1, host.snapshot().busyWorkers(), "the worker went to the third request, not to the one that left");
      third.close();
      assertEquals(0, host.snapshot().busyWorkers());
    }
    assertEquals(Map.of("r1", TraceEvent.Status.OK, "r2", TraceEvent.Status.CANCELLED, "r3", TraceEvent.Status.CANCELLED),
        outcomes());
  }

  @Test
  void drain_refusesNewRequests_letsTheOneInFlightFinish() throws Exception {
    FakeTicker ticker = new FakeTicker();
    ModelHost host = host(ticker, "MLX_MAX_CONCURRENT_REQUESTS", "2");
    ModelHost.Lease running = host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
    Future<Integer> drained = threads.submit(() -> host.drain(Duration.ofMinutes(5)));
    HostException refused = null;
    for (int i = 0; i < 2000 && refused == null; i++) {
      try {
        host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT).close();
        Thread.sleep(5);
      } catch (HostException e) {
        refused = e;
      }
    }
    assertEquals(503, refused.status());
    assertEquals(5, refused.retryAfterSeconds());
    assertFalse(running.cancelled(), "within the grace a request in flight runs on");
    running.succeeded(4);
    running.close();
    assertEquals(0, drained.get(), "nothing left to cancel");
    host.close();
    List<TraceEvent> events = trace();
    assertEquals(TraceEvent.Status.OK, outcomes().get("r1"));
    assertTrue(events.get(events.size() - 1) instanceof TraceEvent.End, "the trace ends after the last outcome");
  }

  @Test
  void drain_afterTheGrace_cancelsQueuedAndRunning_andRecordsThem() throws Exception {
    FakeTicker ticker = new FakeTicker();
    ModelHost host = host(ticker, "MLX_MAX_CONCURRENT_REQUESTS", "1");
    ModelHost.Lease running = host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT);
    Future<ModelHost.Lease> queued = beginLater(host, fast());
    waitFor(() -> host.snapshot().queued() == 1, "one waits for the worker");
    Future<Integer> drained = threads.submit(() -> host.drain(Duration.ZERO));
    waitFor(running::cancelled, "the running request is asked to stop");
    HostException e = (HostException) cause(queued);
    assertTrue(e.cancelled(), e.getMessage());
    running.close(); // what a generation does when it sees cancelled()
    assertEquals(2, drained.get());
    host.close();
    assertEquals(Map.of("r1", TraceEvent.Status.CANCELLED, "r2", TraceEvent.Status.CANCELLED), outcomes());
    List<TraceEvent> events = trace();
    assertTrue(events.get(events.size() - 1) instanceof TraceEvent.End);
  }

  @Test
  void modelWithBadFiles_refusedBeforeAnyEviction() throws Exception {
    // A models folder holding fast only: the table's other models have no files.
    Path models = dir.resolve("models");
    Files.createDirectories(models);
    Files.createSymbolicLink(models.resolve("phi3.5_3.8b"), TestModels.dir().resolve("phi3.5_3.8b").toAbsolutePath());
    FakeTicker ticker = new FakeTicker();
    try (ModelHost host = host(ticker, models, LoadedModel::load, "MLX_MAX_CACHED_MODELS", "1")) {
      host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT).close();
      ModelSpec coder = TestModels.table().resolve("default");
      HostException e = assertThrows(HostException.class, () -> host.begin("default", coder, 4, 4, ModelCache.KEEP_ALIVE_DEFAULT));
      assertEquals(503, e.status());
      assertEquals("model qwen2.5-coder:32b cannot be loaded: model description qwen2.5-coder_32b/config.json does not exist",
          e.getMessage());
      assertFalse(e.getMessage().contains(dir.toString()), "no absolute path: " + e.getMessage());
      assertEquals(List.of("phi3.5:3.8b"), host.snapshot().models().stream().map(CachedModel::model).toList(),
          "the healthy model was not evicted for a load that could not succeed");
    }
  }

  @Test
  void failedLoad_isNotRetriedBeforeTheBackOff_thenIsRetried() throws Exception {
    FakeTicker ticker = new FakeTicker();
    boolean[] fail = {true};
    ModelHost.Loader flaky = path -> {
      if (fail[0]) {
        throw new IOException("the disk said no");
      }
      return LoadedModel.load(path);
    };
    try (ModelHost host = host(ticker, TestModels.dir(), flaky)) {
      HostException first = assertThrows(HostException.class, () -> host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT));
      assertEquals("model phi3.5:3.8b could not be loaded: the disk said no", first.getMessage());
      assertEquals(5, first.retryAfterSeconds());
      fail[0] = false;
      ticker.advance(Duration.ofSeconds(4));
      HostException early = assertThrows(HostException.class, () -> host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT));
      assertEquals("model phi3.5:3.8b failed to load 1 time; it is tried again in 1 s", early.getMessage());
      assertEquals(1, early.retryAfterSeconds());
      ticker.advance(Duration.ofSeconds(1));
      host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT).close();
      assertEquals(1, host.snapshot().models().size(), "loaded once the back-off passed");
    }
    assertEquals(1, trace().stream().filter(e -> e instanceof TraceEvent.LoadFailed).count(), "one failed load, not two");
  }

  @Test
  void aFailedTick_isCountedAndTheNextOneRuns() throws Exception {
    long[] now = {10_000_000_000L};
    Ticker ticker = () -> now[0];
    try (ModelHost host = host(ticker, TestModels.dir(), LoadedModel::load, "MLX_MODEL_IDLE_TTL_SEC", "1",
        "MLX_CACHE_CLEANUP_INTERVAL_SEC", "3600")) {
      host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT).close();
      now[0] -= 5_000_000_000L; // a clock that goes back: the core refuses the tick
      host.tick();
      assertTrue(host.scrapeMetrics().contains("mlxcap_internal_errors_total{where=\"cleanup\"} 1.0"));
      now[0] += 10_000_000_000L;
      host.tick();
      assertEquals(0, host.snapshot().models().size(), "the next tick ran and unloaded the idle model");
    }
  }

  @Test
  void withoutHostMemory_warnsOnce_andTicksWithoutThePressureRule() throws Exception {
    FakeTicker ticker = new FakeTicker();
    MemoryProbe blind = new MemoryProbe(Path.of("/proc/self/status"), dir.resolve("no-meminfo"));
    ModelHost host = new ModelHost(settings("MLX_MEMORY_PRESSURE_THRESHOLD", "0.5", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "0"),
        TestModels.table(), TestModels.dir(), ticker, null, new ServerMetrics(), blind, LoadedModel::load);
    try (host) {
      assertEquals(List.of("cannot read the host's memory (/proc/meminfo): MLX_MEMORY_PRESSURE_THRESHOLD is not enforced"),
          host.warnings());
      host.start(Duration.ZERO);
      host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_DEFAULT).close();
      host.tick();
      assertFalse(host.scrapeMetrics().contains("mlxcap_internal_errors_total{"), host.scrapeMetrics());
      assertEquals(1, host.snapshot().models().size());
    }
  }

  @Test
  void keepAlive_zero_unloadsAfterTheRequest_andIsRecorded() throws Exception {
    FakeTicker ticker = new FakeTicker();
    try (ModelHost host = host(ticker)) {
      host.begin("fast", fast(), 4, 4, 0).close();
      assertEquals(0, host.snapshot().models().size());
      host.begin("fast", fast(), 4, 4, ModelCache.KEEP_ALIVE_FOREVER).close();
      assertEquals(Long.MAX_VALUE, host.snapshot().models().get(0).expiresAtNanos());
    }
    List<TraceEvent.Request> requests = trace().stream().filter(e -> e instanceof TraceEvent.Request)
        .map(e -> (TraceEvent.Request) e).toList();
    assertEquals(List.of(0L, TraceEvent.KEEP_ALIVE_FOREVER), requests.stream().map(TraceEvent.Request::keepAliveNanos).toList());
    assertTrue(trace().stream().anyMatch(e -> e instanceof TraceEvent.Evict v && v.reason().wireName().equals("idle_ttl")));
  }

  @Test
  void pastTheContext_400_recordedRejected_beforeItWaits() {
    FakeTicker ticker = new FakeTicker();
    ModelSpec small = new ModelSpec(fast().name(), fast().aliases(), fast().size(), fast().performance(),
        new ModelSpec.Details(0, 100, ""));
    try (ModelHost host = host(ticker)) {
      HostException e = assertThrows(HostException.class, () -> host.begin("fast", small, 90, 11, ModelCache.KEEP_ALIVE_DEFAULT));
      assertEquals(400, e.status());
      assertEquals("context_length_exceeded", e.code());
      assertEquals(0, host.snapshot().models().size(), "refused before its model was loaded");
    }
    assertEquals(Map.of("r1", TraceEvent.Status.REJECTED), outcomes());
  }
}
