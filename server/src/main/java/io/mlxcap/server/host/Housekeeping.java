package io.mlxcap.server.host;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The host's work on a clock rather than on a request: the cleanup tick and the memory sampling on
 * their schedules, the process's memory read for the metrics, and the heap trim after requests end.
 * The tick itself is {@link ModelHost#tick}: like everything that changes the core it goes through
 * the host's one cycle; this class only says when.
 */
final class Housekeeping implements AutoCloseable {
  /** How long after a request ends the heap is trimmed, if no generation runs then. */
  static final long TRIM_QUIET_MS = 20;

  private final MemoryProbe probe;
  private final ServerMetrics metrics;
  private final ModelLoading loading;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(ModelHost.daemon("mlxcap-cleanup"));
  /** True while a heap trim is queued: requests that end meanwhile share it. */
  private final AtomicBoolean trimQueued = new AtomicBoolean();
  /** Leases not yet closed: generations running. */
  private final AtomicInteger openLeases = new AtomicInteger();
  private volatile long lastTrim = System.nanoTime();

  Housekeeping(MemoryProbe probe, ServerMetrics metrics, ModelLoading loading) {
    this.probe = probe;
    this.metrics = metrics;
    this.loading = loading;
  }

  /**
   * Runs {@code tick} every {@code cleanupInterval} (none when zero) and, every {@code memorySample}
   * (none when zero), reads the memory and hands the reading to {@code sampled} for the trace.
   */
  void start(Duration cleanupInterval, Runnable tick, Duration memorySample, Consumer<MemoryProbe.Reading> sampled) {
    long interval = cleanupInterval.toMillis();
    if (interval > 0) {
      scheduler.scheduleAtFixedRate(tick, interval, interval, TimeUnit.MILLISECONDS);
    }
    if (!memorySample.isZero()) {
      scheduler.scheduleAtFixedRate(() -> sampled.accept(readMemory()), 0, memorySample.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The process's and the host's memory now; the RSS goes to the metrics too. */
  MemoryProbe.Reading readMemory() {
    MemoryProbe.Reading reading = probe.read();
    metrics.rssBytes.set(reading.rssBytes());
    return reading;
  }

  /** The metrics in Prometheus text, the process's RSS read now. */
  String scrapeMetrics() {
    readMemory();
    return metrics.scrape();
  }

  void leaseOpened() {
    openLeases.incrementAndGet();
  }

  /** A generation ended: the heap is trimmed soon. */
  void leaseClosed() {
    openLeases.decrementAndGet();
    trimSoon();
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
      } catch (RejectedExecutionException closing) {
        trimQueued.set(false);
      }
    }
  }

  private void trimIfQuiet() {
    trimQueued.set(false);
    long now = System.nanoTime();
    if ((openLeases.get() > 0 || loading.loadsRunning() > 0) && now - lastTrim < TimeUnit.SECONDS.toNanos(1)) {
      trimSoon(); // a generation or a load is running: look again shortly
      return;
    }
    lastTrim = now;
    loading.execute(io.mlxcap.server.model.DjlEngine::trim);
  }

  /** Stops the schedules. */
  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
