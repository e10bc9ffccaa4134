package io.mlxcap.server.host;

import io.mlxcap.cache.LoadCause;
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.server.model.SynthModelFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models as the server holds them, beside the core's view of them: the loaded instances, the
 * loads in flight (when each started and why), the back-off of a model whose load failed, and the
 * I/O of loading and closing (the loader pool, each model's lock, the file checks).
 *
 * <p>{@link ModelHost} calls it while it carries out the core's decisions: the bookkeeping methods
 * run under the host's lock; {@link #submit} and {@link #close(String, LoadedModel)} are the I/O the
 * host runs after unlocking. Loading and closing the same model take that model's lock, so a new load
 * waits for the old instance to be closed. A model whose load failed is not tried again before a
 * back-off ({@link #FIRST_RETRY}, doubling to {@link #MAX_RETRY}).
 */
final class ModelLoading implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelLoading.class);
  /** How long a model whose load failed is not tried again; doubles with each failure in a row, up to {@link #MAX_RETRY}. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);
  static final Duration MAX_RETRY = Duration.ofMinutes(5);

  private final Path modelsDir;
  private final ModelHost.Loader loader;
  private final Map<String, LoadedModel> instances = new HashMap<>();
  private final Map<String, Long> loadStarts = new HashMap<>();
  private final Map<String, LoadCause> loadCauses = new HashMap<>();
  private final Map<String, Backoff> backoff = new HashMap<>();
  private final Map<String, Object> modelLocks = new ConcurrentHashMap<>();
  private final ExecutorService loaders = Executors.newCachedThreadPool(ModelHost.daemon("mlxcap-loader"));
  /** Loads in progress (written under the host's lock, read by the trim's schedule). */
  private volatile int loadsRunning;

  /** A model whose load failed: not tried again before {@code until} (ticker time). */
  private record Backoff(long until, int failures) {}

  /** A load that ended: how long it took and why it was started. */
  record Ended(long durationNanos, LoadCause cause) {}

  ModelLoading(Path modelsDir, ModelHost.Loader loader) {
    this.modelsDir = modelsDir;
    this.loader = loader;
  }

  // ---- bookkeeping, under the host's lock ----

  /** The loaded instance of {@code model}, or null. */
  LoadedModel instance(String model) {
    return instances.get(model);
  }

  /** True when {@code model} is loaded or loading. */
  boolean isCached(String model) {
    return instances.containsKey(model) || loadStarts.containsKey(model);
  }

  void started(String model, LoadCause cause, long now) {
    loadStarts.put(model, now);
    loadCauses.put(model, cause);
    loadsRunning = loadStarts.size();
  }

  /** The instance a load made, before the core hears of it. */
  void loaded(String model, LoadedModel instance) {
    instances.put(model, instance);
  }

  /** The core took the load: the model's back-off ends. */
  Ended succeeded(String model, long now) {
    backoff.remove(model);
    return ended(model, now);
  }

  /** The load failed: the model is not tried again before its back-off. */
  Ended failed(String model, long now) {
    Backoff before = backoff.get(model);
    int failures = before == null ? 1 : before.failures() + 1;
    long wait = Math.min(MAX_RETRY.toNanos(), FIRST_RETRY.toNanos() << Math.min(failures - 1, 20));
    backoff.put(model, new Backoff(now + wait, failures));
    return ended(model, now);
  }

  private Ended ended(String model, long now) {
    long duration = now - loadStarts.remove(model);
    loadsRunning = loadStarts.size();
    return new Ended(duration, loadCauses.remove(model));
  }

  /** The core evicted {@code model}: its instance, for {@link #close(String, LoadedModel)} after the lock. */
  LoadedModel evicted(String model) {
    return instances.remove(model);
  }

  /**
   * Why a request for {@code model} may not ask the cache now, or null: the model failed to load a
   * moment ago (503 with the back-off's end), or, neither loaded nor loading, its files are wrong
   * (checked before the core may evict anything for it).
   */
  HostException refusal(String model, long now) {
    Backoff failed = backoff.get(model);
    if (failed != null && now < failed.until() && !instances.containsKey(model)) {
      return HostException.unavailable("model " + model + " failed to load " + failed.failures()
          + (failed.failures() == 1 ? " time" : " times in a row") + "; it is tried again in "
          + seconds(failed.until() - now) + " s", seconds(failed.until() - now));
    }
    if (!isCached(model)) {
      try {
        checkFiles(model);
      } catch (HostException e) {
        return e;
      }
    }
    return null;
  }

  /** Seconds until {@code model} is tried again (at least 1), for a {@code Retry-After}. */
  long retryAfter(String model, long now) {
    Backoff failed = backoff.get(model);
    return failed == null ? 1 : seconds(failed.until() - now);
  }

  private static long seconds(long nanos) {
    return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
  }

  /** Checks the model's files before the cache may evict anything for it: 503 saying what is wrong. */
  void checkFiles(String model) {
    try {
      LoadedModel.check(directoryOf(model));
    } catch (IOException | IllegalArgumentException e) {
      throw HostException.unavailable("model " + model + " cannot be loaded: " + clientSafe(e.getMessage()), 60);
    }
  }

  /** Loads running now (read without the lock). */
  int loadsRunning() {
    return loadsRunning;
  }

  // ---- I/O, outside the lock ----

  /**
   * Loads {@code model} on a loader thread, holding the model's lock, then hands {@code then} the
   * instance, or null and why it failed in a sentence a client may see.
   */
  void submit(String model, BiConsumer<LoadedModel, String> then) {
    loaders.execute(() -> {
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
      then.accept(loaded, error);
    });
  }

  /** Closes an evicted instance, holding the model's lock. */
  void close(String model, LoadedModel instance) {
    if (instance != null) {
      synchronized (modelLock(model)) {
        instance.close();
      }
    }
  }

  /** Runs {@code work} on a loader thread (the heap trim runs there); ignored once closing. */
  void execute(Runnable work) {
    try {
      loaders.execute(work);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // shutting down
    }
  }

  private Object modelLock(String model) {
    return modelLocks.computeIfAbsent(model, m -> new Object());
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

  /** Lets running loads end (up to 30 s) and takes no more. */
  void stopLoading() {
    loaders.shutdown();
    try {
      loaders.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Closes every loaded instance (under the host's lock, after {@link #stopLoading}). */
  @Override
  public void close() {
    instances.values().forEach(LoadedModel::close);
    instances.clear();
  }
}
