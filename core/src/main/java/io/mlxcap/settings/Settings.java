package io.mlxcap.settings;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.model.ModelTable;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The MLX_* settings in force: the cache policy plus what the shells need around it.
 *
 * <p>Read from the environment, or from any map of the same variables ({@link #fromEnv}); every
 * variable, its default and what it allows is listed in {@link Setting}. An empty value means the
 * default, except for {@code MLX_PRELOAD_MODELS}, where empty means "preload nothing" as in the seed.
 *
 * @param cache the limits the cache core enforces
 * @param cleanupInterval time between cleanup ticks; zero when periodic cleanup is off
 * @param preloadModels canonical names of the models to load at start, in order, without repeats
 * @param maxConcurrentRequests requests served at once
 * @param maxQueue requests that may wait for a worker
 * @param policy whose server these settings describe, and so the variables they are written in
 * @param contextTokens the KV cache, in tokens per request slot, that the server allocates when it loads
 *     a model (Ollama: its context length, times {@code OLLAMA_NUM_PARALLEL} slots, each model's trained
 *     context at most); 0 when the KV cache grows with each request as it runs (mlxcap's servers)
 */
public record Settings(
    CachePolicy cache,
    Duration cleanupInterval,
    List<String> preloadModels,
    int maxConcurrentRequests,
    int maxQueue,
    ServerPolicy policy,
    int contextTokens) {

  private static final String OFF = "off";

  public Settings {
    Objects.requireNonNull(cache, "cache");
    Objects.requireNonNull(cleanupInterval, "cleanupInterval");
    Objects.requireNonNull(policy, "policy");
    preloadModels = List.copyOf(preloadModels);
    if (contextTokens < 0) {
      throw new IllegalArgumentException("contextTokens must be >= 0, was " + contextTokens);
    }
  }

  /** Settings whose server grows the KV cache with each request (no context allocated at load). */
  public Settings(CachePolicy cache, Duration cleanupInterval, List<String> preloadModels, int maxConcurrentRequests,
      int maxQueue, ServerPolicy policy) {
    this(cache, cleanupInterval, preloadModels, maxConcurrentRequests, maxQueue, policy, 0);
  }

  /**
   * These settings on a server that grows the KV cache with each request: how mlxcap's reference
   * server holds memory under every policy, so a replay of its recording must not add the context a
   * real Ollama allocates at load.
   */
  public Settings withKvPerRequest() {
    return new Settings(cache, cleanupInterval, preloadModels, maxConcurrentRequests, maxQueue, policy, 0);
  }

  /** The settings with every variable unset: the seed's defaults after its fix. */
  public static Settings defaults(ModelTable table) {
    return fromEnv(Map.of(), table);
  }

  /** The settings of this process's environment. */
  public static Settings fromSystemEnv(ModelTable table) {
    return fromEnv(System.getenv(), table);
  }

  /**
   * Reads the settings from {@code env}, resolving preload names in {@code table}; variables that
   * are not MLX_* settings are ignored.
   *
   * @throws InvalidInputException naming the first variable whose value is not allowed, its value
   *     and what is allowed
   */
  public static Settings fromEnv(Map<String, String> env, ModelTable table) {
    return readMlx(env, table, ServerPolicy.MLX);
  }

  /**
   * Reads {@code policy}'s own variables from {@code env} (its names, defaults and forms); variables of
   * other policies are ignored here (the commands refuse them where they are given).
   */
  public static Settings fromEnv(ServerPolicy policy, Map<String, String> env, ModelTable table) {
    Objects.requireNonNull(table, "table");
    return policy.read(env, table);
  }

  /** The MLX_* reading, as {@code policy} (mlx, or the seed's subset with the rest fixed). */
  static Settings readMlx(Map<String, String> env, ModelTable table, ServerPolicy policy) {
    Objects.requireNonNull(table, "table");
    int maxModels = readCap(env);
    Duration interval = Duration.ofSeconds(readWhole(env, Setting.MLX_CACHE_CLEANUP_INTERVAL_SEC, 0));
    List<String> preload = readPreload(env, table);
    double pressure = readPressure(env);
    Duration ttl = readTtl(env);
    long maxBytes = readBytes(env);
    int concurrency = (int) readWhole(env, Setting.MLX_MAX_CONCURRENT_REQUESTS, 1);
    int queue = (int) readWhole(env, Setting.MLX_MAX_QUEUE, 0);
    if (!ttl.equals(CachePolicy.NO_IDLE_TTL) && interval.isZero()) {
      throw new InvalidInputException(
          "MLX_MODEL_IDLE_TTL_SEC='" + value(env, Setting.MLX_MODEL_IDLE_TTL_SEC)
              + "' needs periodic cleanup, but MLX_CACHE_CLEANUP_INTERVAL_SEC=0 turns it off;"
              + " set an interval > 0 or MLX_MODEL_IDLE_TTL_SEC=off.");
    }
    return new Settings(new CachePolicy(maxModels, maxBytes, ttl, pressure), interval, preload, concurrency, queue, policy);
  }

  /** Returns these settings with {@code overrides} (variable to value) applied, validated as in {@link #fromEnv}. */
  public Settings with(Map<String, String> overrides, ModelTable table) {
    Map<String, String> env = new LinkedHashMap<>(toEnv());
    env.putAll(overrides);
    return fromEnv(policy, env, table);
  }

  /**
   * Returns the settings as the policy's variables and values, in its order: what a trace header
   * records, and what {@link #fromEnv(ServerPolicy, Map, ModelTable)} reads back to equal settings.
   */
  public Map<String, String> toEnv() {
    return policy.write(this);
  }

  /** The settings as every MLX_* variable, in {@link Setting} order. */
  Map<String, String> mlxEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(Setting.MLX_MAX_CACHED_MODELS.name(),
        cache.maxModels() == CachePolicy.UNLIMITED_MODELS ? OFF : Integer.toString(cache.maxModels()));
    env.put(Setting.MLX_CACHE_CLEANUP_INTERVAL_SEC.name(), Long.toString(cleanupInterval.toSeconds()));
    env.put(Setting.MLX_PRELOAD_MODELS.name(), String.join(",", preloadModels));
    env.put(Setting.MLX_MEMORY_PRESSURE_THRESHOLD.name(),
        cache.pressureThreshold() == CachePolicy.NO_PRESSURE_THRESHOLD
            ? OFF
            : BigDecimal.valueOf(cache.pressureThreshold()).stripTrailingZeros().toPlainString());
    env.put(Setting.MLX_MODEL_IDLE_TTL_SEC.name(),
        cache.idleTtl().equals(CachePolicy.NO_IDLE_TTL) ? OFF : Long.toString(cache.idleTtl().toSeconds()));
    env.put(Setting.MLX_MAX_CACHE_BYTES.name(), cache.maxBytes() == CachePolicy.UNLIMITED_BYTES ? OFF
        : cache.maxBytes() % (1L << 30) == 0 ? cache.maxBytes() / (1L << 30) + "GiB" : Long.toString(cache.maxBytes()));
    env.put(Setting.MLX_MAX_CONCURRENT_REQUESTS.name(), Integer.toString(maxConcurrentRequests));
    env.put(Setting.MLX_MAX_QUEUE.name(), Integer.toString(maxQueue));
    return env;
  }

  /**
   * Returns warnings about settings that are allowed but probably not meant: a preload list longer
   * than the cap (the surplus is loaded, then unloaded), a default preload the model table cannot
   * serve (nothing is preloaded), and MLX_* variables mlxcap does not know (likely typos, with the
   * nearest known name). {@code env} is what these settings were read from.
   */
  public List<String> warnings(Map<String, String> env) {
    List<String> warnings = new ArrayList<>();
    if (policy != ServerPolicy.MLX && policy != ServerPolicy.MLX_SEED) {
      return warnings; // the warnings below are about MLX_* variables
    }
    if (preloadModels.size() > cache.maxModels()) {
      warnings.add("MLX_PRELOAD_MODELS lists " + preloadModels.size() + " models but MLX_MAX_CACHED_MODELS="
          + cache.maxModels() + ": all are preloaded, and the least recently used surplus is unloaded"
          + " at the first cleanup tick or before the next load.");
    }
    if (value(env, Setting.MLX_PRELOAD_MODELS) == null && preloadModels.isEmpty()) {
      warnings.add("MLX_PRELOAD_MODELS is unset and its default '" + Setting.MLX_PRELOAD_MODELS.defaultValue()
          + "' names no model of this model table, so nothing is preloaded; set MLX_PRELOAD_MODELS to choose.");
    }
    for (String name : new TreeMap<>(env).keySet()) {
      if (name.startsWith("MLX_") && Setting.named(name).isEmpty() && !Setting.OTHER_KNOWN.contains(name)) {
        warnings.add(name + " is not a setting mlxcap knows and is ignored; did you mean " + nearestSetting(name) + "?");
      }
    }
    return warnings;
  }

  // ---- parsing, one method per kind of value ----

  private static String value(Map<String, String> env, Setting setting) {
    String raw = env.get(setting.name());
    return raw == null ? null : raw.strip();
  }

  /** The value, or the default when unset or empty. */
  private static String valueOrDefault(Map<String, String> env, Setting setting) {
    String raw = value(env, setting);
    return raw == null || raw.isEmpty() ? setting.defaultValue() : raw;
  }

  private static InvalidInputException invalid(Setting setting, String value, String why) {
    return new InvalidInputException(
        setting.name() + "='" + value + "' is invalid: " + why + "; allowed: " + setting.allowed() + ".");
  }

  private static boolean isOff(String value) {
    return value.equalsIgnoreCase(OFF);
  }

  private static long readWhole(Map<String, String> env, Setting setting, long min) {
    return parseWhole(setting, valueOrDefault(env, setting), min, Integer.MAX_VALUE);
  }

  private static long parseWhole(Setting setting, String value, long min, long max) {
    long number;
    try {
      number = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw invalid(setting, value, "not a whole number");
    }
    if (number < min) {
      throw invalid(setting, value, "must be >= " + min);
    }
    if (number > max) {
      throw invalid(setting, value, "must be <= " + max);
    }
    return number;
  }

  private static int readCap(Map<String, String> env) {
    String value = valueOrDefault(env, Setting.MLX_MAX_CACHED_MODELS);
    return isOff(value)
        ? CachePolicy.UNLIMITED_MODELS
        : (int) parseWhole(Setting.MLX_MAX_CACHED_MODELS, value, 1, Integer.MAX_VALUE - 1);
  }

  private static Duration readTtl(Map<String, String> env) {
    String value = valueOrDefault(env, Setting.MLX_MODEL_IDLE_TTL_SEC);
    if (isOff(value)) {
      return CachePolicy.NO_IDLE_TTL;
    }
    long seconds = parseWhole(Setting.MLX_MODEL_IDLE_TTL_SEC, value, 0, Long.MAX_VALUE / 1_000_000_000L);
    return seconds == 0 ? CachePolicy.NO_IDLE_TTL : Duration.ofSeconds(seconds);
  }

  private static double readPressure(Map<String, String> env) {
    Setting setting = Setting.MLX_MEMORY_PRESSURE_THRESHOLD;
    String value = valueOrDefault(env, setting);
    if (isOff(value)) {
      return CachePolicy.NO_PRESSURE_THRESHOLD;
    }
    boolean percent = value.endsWith("%");
    double fraction;
    try {
      fraction = new BigDecimal(percent ? value.substring(0, value.length() - 1).strip() : value).doubleValue();
    } catch (NumberFormatException e) {
      throw invalid(setting, value, "not a number");
    }
    if (percent) {
      fraction /= 100;
    }
    if (!(fraction > 0 && fraction <= 1)) {
      throw invalid(setting, value, fraction > 1 && !percent
          ? "a fraction must be at most 1 (did you mean " + value + "%?)"
          : "must be above 0 and at most " + (percent ? "100%" : "1"));
    }
    return fraction;
  }

  private static long readBytes(Map<String, String> env) {
    Setting setting = Setting.MLX_MAX_CACHE_BYTES;
    String value = valueOrDefault(env, setting);
    if (isOff(value)) {
      return CachePolicy.UNLIMITED_BYTES;
    }
    long bytes;
    try {
      bytes = ByteSize.parse(value);
    } catch (IllegalArgumentException e) {
      throw invalid(setting, value, e.getMessage());
    }
    if (bytes < 1) {
      throw invalid(setting, value, "a budget must be more than 0 bytes");
    }
    return bytes;
  }

  /**
   * The preload list. A value the user gave must name models of the table; the default ({@code fast})
   * applies only where the table has such a model, so a table of one's own without it preloads
   * nothing (and {@link #warnings} says so) instead of failing on a name the user never wrote.
   */
  private static List<String> readPreload(Map<String, String> env, ModelTable table) {
    String raw = value(env, Setting.MLX_PRELOAD_MODELS);
    if (raw == null) {
      return defaultPreload(table);
    }
    Set<String> models = new LinkedHashSet<>();
    for (String entry : raw.split(",")) {
      String name = entry.strip();
      if (name.isEmpty()) {
        continue;
      }
      try {
        models.add(table.resolve(name).name());
      } catch (InvalidInputException e) {
        throw invalid(Setting.MLX_PRELOAD_MODELS, raw, e.getMessage());
      }
    }
    return List.copyOf(models);
  }

  /**
   * The models {@code raw} lists (comma-separated, in order, without repeats) as {@code table}'s
   * canonical names; null or empty is none. A name the table lacks is refused in one sentence naming
   * {@code variable}.
   */
  static List<String> resolveModels(String variable, String raw, ModelTable table) {
    Set<String> models = new LinkedHashSet<>();
    if (raw == null) {
      return List.of();
    }
    for (String entry : raw.split(",")) {
      String name = entry.strip();
      if (!name.isEmpty()) {
        try {
          models.add(table.resolve(name).name());
        } catch (InvalidInputException e) {
          throw new InvalidInputException(variable + "='" + raw + "' is invalid: " + e.getMessage());
        }
      }
    }
    return List.copyOf(models);
  }

  /** The default preload list's models that {@code table} has. */
  private static List<String> defaultPreload(ModelTable table) {
    Set<String> models = new LinkedHashSet<>();
    for (String name : Setting.MLX_PRELOAD_MODELS.defaultValue().split(",")) {
      table.find(name.strip()).ifPresent(m -> models.add(m.name()));
    }
    return List.copyOf(models);
  }

  private static String nearestSetting(String name) {
    List<String> known = new ArrayList<>();
    for (Setting s : Setting.values()) {
      known.add(s.name());
    }
    known.addAll(Setting.OTHER_KNOWN);
    return known.stream().min(Comparator.comparingInt(k -> editDistance(k, name))).orElseThrow();
  }

  /** Levenshtein distance, for "did you mean". */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  @Override
  public String toString() {
    return "Settings" + toEnv();
  }
}
