package io.mlxcap.settings;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.ManualLoads;
import io.mlxcap.cache.ModelGroups;
import io.mlxcap.cache.UnsetKeepAlive;
import io.mlxcap.cache.VictimOrder;
import io.mlxcap.cache.Waiters;
import io.mlxcap.model.ModelTable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * LocalAI's settings that decide what stays loaded, under the environment names its {@code run}
 * command reads ({@code core/cli/run.go} at mudler/LocalAI@82c191a; the unprefixed aliases such as
 * {@code MAX_ACTIVE_BACKENDS} are not read here), with its defaults. The rules are those of
 * {@code pkg/model/watchdog.go} and {@code pkg/model/initializers.go}:
 *
 * <ul>
 *   <li>{@code LOCALAI_MAX_ACTIVE_BACKENDS} (0: no limit): before a load, the least recently used
 *       models beyond the limit are stopped ({@code EnforceLRULimit}, counting loads in progress);
 *       pinned and busy ones are skipped.
 *   <li>{@code LOCALAI_LRU_EVICTION_MAX_RETRIES} (30) and {@code LOCALAI_LRU_EVICTION_RETRY_INTERVAL}
 *       (1s): when busy models hold the room, the loader tries again every interval, and after the
 *       last try loads anyway, past the limit ({@code retryEnforce}); when only pinned models and loads
 *       hold it, it loads past the limit at once ({@code NeedMore} is false).
 *   <li>{@code LOCALAI_SIZE_AWARE_EVICTION} (false): the largest model goes first, ties least
 *       recently used.
 *   <li>{@code LOCALAI_WATCHDOG_IDLE} (false) with {@code LOCALAI_WATCHDOG_IDLE_TIMEOUT} (15m): a model
 *       idle past the timeout is stopped, checked every {@code LOCALAI_WATCHDOG_INTERVAL} (500ms).
 *   <li>{@code LOCALAI_MEMORY_RECLAIMER} (false) with {@code LOCALAI_MEMORY_RECLAIMER_THRESHOLD} (0.95):
 *       above that share of the host's RAM in use, idle models are stopped, least recently used first.
 *   <li>{@code LOCALAI_LOAD_TO_MEMORY}: the models loaded at start.
 *   <li>{@code LOCALAI_MAX_CONCURRENT_BACKEND_REQUESTS} (1024): requests served at once; the next is
 *       refused (503), none wait.
 *   <li>{@code pinned}: the models whose configuration says {@code pinned: true} (a model's YAML, not
 *       a variable): never stopped but by hand, and counted under the limit.
 *   <li>{@code LOCALAI_FORCE_EVICTION_WHEN_BUSY} and {@code LOCALAI_WATCHDOG_BUSY} (false): both stop a
 *       model in the middle of its requests; mlxcap does not model that, and refuses them on.
 * </ul>
 */
final class LocalAiSettings {
  static final String MAX_ACTIVE = "LOCALAI_MAX_ACTIVE_BACKENDS";
  static final String SIZE_AWARE = "LOCALAI_SIZE_AWARE_EVICTION";
  static final String RETRIES = "LOCALAI_LRU_EVICTION_MAX_RETRIES";
  static final String RETRY_INTERVAL = "LOCALAI_LRU_EVICTION_RETRY_INTERVAL";
  static final String WATCHDOG_IDLE = "LOCALAI_WATCHDOG_IDLE";
  static final String IDLE_TIMEOUT = "LOCALAI_WATCHDOG_IDLE_TIMEOUT";
  static final String WATCHDOG_INTERVAL = "LOCALAI_WATCHDOG_INTERVAL";
  static final String RECLAIMER = "LOCALAI_MEMORY_RECLAIMER";
  static final String RECLAIMER_THRESHOLD = "LOCALAI_MEMORY_RECLAIMER_THRESHOLD";
  static final String LOAD_TO_MEMORY = "LOCALAI_LOAD_TO_MEMORY";
  static final String MAX_REQUESTS = "LOCALAI_MAX_CONCURRENT_BACKEND_REQUESTS";
  static final String FORCE_EVICTION = "LOCALAI_FORCE_EVICTION_WHEN_BUSY";
  static final String WATCHDOG_BUSY = "LOCALAI_WATCHDOG_BUSY";
  static final String PINNED = "pinned";
  static final List<String> VARIABLES = List.of(MAX_ACTIVE, SIZE_AWARE, RETRIES, RETRY_INTERVAL, WATCHDOG_IDLE,
      IDLE_TIMEOUT, WATCHDOG_INTERVAL, RECLAIMER, RECLAIMER_THRESHOLD, LOAD_TO_MEMORY, MAX_REQUESTS, FORCE_EVICTION,
      WATCHDOG_BUSY, PINNED);

  private LocalAiSettings() {}

  static Settings read(Map<String, String> env, ModelTable table) {
    long max = ServerValues.whole(env, MAX_ACTIVE, 0, 0, "LocalAI reads a whole number >= 0 (0: no limit).");
    boolean sizeAware = bool(env, SIZE_AWARE);
    long retries = ServerValues.whole(env, RETRIES, 30, 1, "LocalAI reads a whole number >= 1.");
    Duration retryInterval = duration(env, RETRY_INTERVAL, Duration.ofSeconds(1));
    Duration idleTimeout = duration(env, IDLE_TIMEOUT, Duration.ofMinutes(15));
    Duration interval = duration(env, WATCHDOG_INTERVAL, Duration.ofMillis(500));
    if (interval.isZero()) {
      throw new InvalidInputException(WATCHDOG_INTERVAL + "='" + ServerValues.value(env, WATCHDOG_INTERVAL)
          + "' is invalid: LocalAI's watchdog needs an interval longer than 0, such as 500ms.");
    }
    double threshold = threshold(env);
    long requests = ServerValues.whole(env, MAX_REQUESTS, 1024, 1, "LocalAI reads a whole number >= 1.");
    for (String cut : List.of(FORCE_EVICTION, WATCHDOG_BUSY)) {
      if (bool(env, cut)) {
        throw new InvalidInputException(cut + "='" + ServerValues.value(env, cut) + "': mlxcap does not model it:"
            + " it stops a model in the middle of its requests, and mlxcap's requests always run to the end;"
            + " plan with false, LocalAI's default.");
      }
    }
    // retryEnforce tries, sleeps between tries, and after the last one loads anyway: retries - 1 sleeps.
    Duration pastCap = retryInterval.multipliedBy(retries - 1);
    CachePolicy policy = new CachePolicy(max == 0 ? CachePolicy.UNLIMITED_MODELS : (int) Math.min(max, Integer.MAX_VALUE),
        CachePolicy.UNLIMITED_BYTES, bool(env, WATCHDOG_IDLE) ? idleTimeout : CachePolicy.NO_IDLE_TTL,
        bool(env, RECLAIMER) ? threshold : CachePolicy.NO_PRESSURE_THRESHOLD)
        .withRules(sizeAware ? VictimOrder.LARGEST_FIRST : VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.RESETS,
            ManualLoads.EVICTABLE)
        .withSwapping(ModelGroups.NONE, Waiters.EACH_ON_ITS_OWN, CachePolicy.UNLIMITED_REQUESTS)
        .withBackends(new java.util.HashSet<>(Settings.resolveModels(PINNED, env.get(PINNED), table)), pastCap);
    List<String> preload = Settings.resolveModels(LOAD_TO_MEMORY, env.get(LOAD_TO_MEMORY), table);
    return new Settings(policy, interval, preload, (int) Math.min(requests, Integer.MAX_VALUE), 0, ServerPolicy.LOCALAI);
  }

  static Map<String, String> write(Settings s) {
    CachePolicy c = s.cache();
    Map<String, String> env = new LinkedHashMap<>();
    env.put(MAX_ACTIVE, c.maxModels() == CachePolicy.UNLIMITED_MODELS ? "0" : Integer.toString(c.maxModels()));
    env.put(SIZE_AWARE, Boolean.toString(c.victims() == VictimOrder.LARGEST_FIRST));
    // The wait is (retries - 1) intervals: whole seconds as LocalAI's 1 s tries, anything else as one sleep.
    Duration wait = c.pastCapAfter();
    boolean seconds = wait.toNanosPart() == 0;
    env.put(RETRIES, Long.toString(seconds ? wait.toSeconds() + 1 : 2));
    env.put(RETRY_INTERVAL, seconds ? "1s" : ServerValues.write(wait));
    boolean idle = !c.idleTtl().equals(CachePolicy.NO_IDLE_TTL);
    env.put(WATCHDOG_IDLE, Boolean.toString(idle));
    env.put(IDLE_TIMEOUT, idle ? ServerValues.write(c.idleTtl()) : "15m");
    env.put(WATCHDOG_INTERVAL, ServerValues.write(s.cleanupInterval()));
    boolean reclaimer = c.pressureThreshold() != CachePolicy.NO_PRESSURE_THRESHOLD;
    env.put(RECLAIMER, Boolean.toString(reclaimer));
    env.put(RECLAIMER_THRESHOLD, reclaimer ? Double.toString(c.pressureThreshold()) : "0.95");
    env.put(LOAD_TO_MEMORY, String.join(",", s.preloadModels()));
    env.put(MAX_REQUESTS, Integer.toString(s.maxConcurrentRequests()));
    env.put(FORCE_EVICTION, "false");
    env.put(WATCHDOG_BUSY, "false");
    env.put(PINNED, String.join(",", new TreeSet<>(c.neverEvicted())));
    return env;
  }

  /** How a LocalAI user sets {@code name} to {@code value}: an environment line, or a model's YAML for {@code pinned}. */
  static List<String> howToSet(String name, String value) {
    if (!name.equals(PINNED)) {
      return List.of("export " + name + "=" + (value.isEmpty() ? "''" : value));
    }
    if (value.isEmpty()) {
      return List.of("# no model's YAML says pinned: true");
    }
    return java.util.Arrays.stream(value.split(",")).map(m -> "# models/" + m + ".yaml: pinned: true").toList();
  }

  private static boolean bool(Map<String, String> env, String name) {
    String v = ServerValues.value(env, name);
    if (v.isEmpty()) {
      return false;
    }
    Boolean b = ServerValues.bool(v);
    if (b == null) {
      throw new InvalidInputException(name + "='" + v + "' is invalid: LocalAI reads true or false.");
    }
    return b;
  }

  private static Duration duration(Map<String, String> env, String name, Duration defaultValue) {
    String v = ServerValues.value(env, name);
    if (v.isEmpty()) {
      return defaultValue;
    }
    Long nanos = ServerValues.duration(v);
    if (nanos == null || nanos < 0) {
      throw new InvalidInputException(name + "='" + v + "' is invalid: LocalAI reads a duration such as 500ms, 1s,"
          + " 15m or 1h30m.");
    }
    return Duration.ofNanos(nanos);
  }

  private static double threshold(Map<String, String> env) {
    String v = ServerValues.value(env, RECLAIMER_THRESHOLD);
    if (v.isEmpty()) {
      return 0.95;
    }
    try {
      double t = Double.parseDouble(v);
      if (t > 0 && t <= 1) {
        return t;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new InvalidInputException(RECLAIMER_THRESHOLD + "='" + v + "' is invalid: LocalAI reads a share of memory"
        + " in use above 0 and at most 1, such as 0.95.");
  }
}
