package io.mlxcap.settings;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.ManualLoads;
import io.mlxcap.cache.UnsetKeepAlive;
import io.mlxcap.cache.VictimOrder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ollama's scheduler settings, read as {@code envconfig/config.go} at ollama/ollama@fb30760 reads them
 * (names, defaults, forms), into the core's settings. Where Ollama would log a bad value and fall back
 * to its default, mlxcap refuses it in one sentence: a plan made on a value the server ignores would
 * mislead.
 */
final class OllamaSettings {
  static final String MAX_LOADED = "OLLAMA_MAX_LOADED_MODELS";
  static final String KEEP_ALIVE = "OLLAMA_KEEP_ALIVE";
  static final String NUM_PARALLEL = "OLLAMA_NUM_PARALLEL";
  static final String MAX_QUEUE = "OLLAMA_MAX_QUEUE";
  static final String CONTEXT_LENGTH = "OLLAMA_CONTEXT_LENGTH";
  static final List<String> VARIABLES = List.of(MAX_LOADED, KEEP_ALIVE, NUM_PARALLEL, MAX_QUEUE, CONTEXT_LENGTH);

  /**
   * With {@code OLLAMA_CONTEXT_LENGTH} unset or 0, a request's context is 4096 tokens on a machine with
   * less than 23 GiB of VRAM, none included (server/routes.go 2048–2057, "default context based on VRAM
   * tier"); a load allocates it for each of {@code OLLAMA_NUM_PARALLEL} slots, the model's trained
   * context at most ({@code effectiveLlamaServerContext} in sched.go 793).
   */
  static final int DEFAULT_CONTEXT = 4096;

  /**
   * With {@code OLLAMA_MAX_LOADED_MODELS} unset or 0, Ollama allows 3 per GPU and 3 without one
   * ({@code defaultModelsPerGPU * max(len(gpus), 1)}, sched.go 86 and 281–289): the CPU-only machine
   * mlxcap plans for.
   */
  static final int DEFAULT_MAX_LOADED = 3;

  /** How often the shells look for expired models: Ollama's timers fire at the deadline, so up to this late. */
  static final Duration EXPIRY_CHECK = Duration.ofSeconds(1);

  private OllamaSettings() {}

  static Settings read(Map<String, String> env) {
    long maxLoaded = readUint(env, MAX_LOADED, 0);
    long parallel = readUint(env, NUM_PARALLEL, 1);
    long queue = readUint(env, MAX_QUEUE, 512);
    long context = readUint(env, CONTEXT_LENGTH, 0);
    Duration keepAlive = readKeepAlive(env);
    int cap = maxLoaded == 0 ? DEFAULT_MAX_LOADED : (int) Math.min(maxLoaded, Integer.MAX_VALUE);
    CachePolicy limits = new CachePolicy(cap, CachePolicy.UNLIMITED_BYTES, keepAlive, CachePolicy.NO_PRESSURE_THRESHOLD);
    // sched.go 497: max(OLLAMA_NUM_PARALLEL, 1).
    int workers = (int) Math.max(1, Math.min(parallel, Integer.MAX_VALUE));
    return new Settings(limits.withRules(VictimOrder.SHORTEST_KEEP_ALIVE, UnsetKeepAlive.STAYS, ManualLoads.EVICTABLE), EXPIRY_CHECK, List.of(),
        workers, (int) Math.min(queue, Integer.MAX_VALUE), ServerPolicy.OLLAMA,
        context == 0 ? DEFAULT_CONTEXT : (int) Math.min(context, Integer.MAX_VALUE));
  }

  static Map<String, String> write(Settings s) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(MAX_LOADED, s.cache().maxModels() == CachePolicy.UNLIMITED_MODELS ? "0" : Integer.toString(s.cache().maxModels()));
    env.put(KEEP_ALIVE, writeKeepAlive(s.cache().idleTtl()));
    env.put(NUM_PARALLEL, Integer.toString(s.maxConcurrentRequests()));
    env.put(MAX_QUEUE, Integer.toString(s.maxQueue()));
    env.put(CONTEXT_LENGTH, Integer.toString(s.contextTokens()));
    return env;
  }

  /** envconfig's {@code Uint}: unset or empty is the default; anything but a whole number >= 0 is refused. */
  private static long readUint(Map<String, String> env, String name, long defaultValue) {
    return ServerValues.whole(env, name, defaultValue, 0, "Ollama reads a whole number >= 0 (and would ignore this value,"
        + " using " + defaultValue + ").");
  }

  /**
   * {@code KeepAlive()} (config.go 126–144): a Go duration such as {@code 5m}, {@code 1h30m} or
   * {@code 300ms}, or a whole number of seconds; negative is forever, 0 unloads a model once idle;
   * default 5 minutes.
   */
  static Duration readKeepAlive(Map<String, String> env) {
    String v = ServerValues.value(env, KEEP_ALIVE);
    if (v.isEmpty()) {
      return Duration.ofMinutes(5);
    }
    Long nanos = ServerValues.duration(v);
    if (nanos == null) {
      try {
        long seconds = Long.parseLong(v);
        nanos = seconds < 0 ? -1 : Math.multiplyExact(seconds, 1_000_000_000L);
      } catch (NumberFormatException | ArithmeticException e) {
        throw new InvalidInputException(KEEP_ALIVE + "='" + v + "' is invalid: Ollama reads a duration such as 5m,"
            + " 1h30m or 300ms, or a whole number of seconds; negative keeps models loaded forever, 0 unloads them"
            + " when idle (and would ignore this value, using 5m).");
      }
    }
    return nanos < 0 ? CachePolicy.NO_IDLE_TTL : Duration.ofNanos(nanos);
  }

  /** Writes a keep-alive in the form Ollama reads back: {@code -1} forever, {@code 0}, or the largest exact unit. */
  static String writeKeepAlive(Duration ttl) {
    return ttl.equals(CachePolicy.NO_IDLE_TTL) ? "-1" : ServerValues.write(ttl);
  }
}
