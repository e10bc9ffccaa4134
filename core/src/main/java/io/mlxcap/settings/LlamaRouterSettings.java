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
 * llama.cpp's {@code llama-server} in router mode (started without a model, serving a models
 * directory or preset), read from the flags that decide what it keeps loaded: the names are the
 * flags without their dashes. From {@code tools/server/server-models.cpp} and the server's
 * {@code --help} at ggml-org/llama.cpp@00dd081.
 *
 * <ul>
 *   <li>{@code models-max} ({@code --models-max}, env {@code LLAMA_ARG_MODELS_MAX}): how many child
 *       servers may run; default 4, and 0 or less is no limit ({@code unload_lru}: "if
 *       (base_params.models_max <= 0) return; // no limit").
 *   <li>{@code sleep-idle-seconds} ({@code --sleep-idle-seconds}, passed on to every child): an idle
 *       child frees its model after this long and reloads it on the next request; -1 (the default)
 *       never.
 *   <li>{@code parallel} ({@code -np}, env {@code LLAMA_ARG_N_PARALLEL}): slots per child; the
 *       default -1 is "auto", which the server makes 4.
 * </ul>
 *
 * <p>The router checks no memory before it spawns a child: a model that does not fit fails to load,
 * and the simulator predicts those failures ({@link ServerPolicy#failsLoadsThatDoNotFit}).
 */
final class LlamaRouterSettings {
  static final String MODELS_MAX = "models-max";
  static final String SLEEP_IDLE = "sleep-idle-seconds";
  static final String PARALLEL = "parallel";
  static final List<String> VARIABLES = List.of(MODELS_MAX, SLEEP_IDLE, PARALLEL);

  static final int DEFAULT_MODELS_MAX = 4;
  /** What {@code -np -1} (auto) becomes in the server. */
  static final int AUTO_PARALLEL = 4;
  /** How often the shells look for children due to sleep: the child checks its idle time as it runs, so up to this late. */
  static final Duration SLEEP_CHECK = Duration.ofSeconds(1);

  private LlamaRouterSettings() {}

  static Settings read(Map<String, String> env) {
    long max = readInt(env, MODELS_MAX, DEFAULT_MODELS_MAX, "a whole number (0 or less: no limit)");
    long sleep = readInt(env, SLEEP_IDLE, -1, "-1 (never) or a whole number of seconds >= 1");
    if (sleep == 0 || sleep < -1) {
      throw refused(env, SLEEP_IDLE, "-1 (never) or a whole number of seconds >= 1");
    }
    long parallel = readInt(env, PARALLEL, -1, "-1 (auto, 4 slots) or a whole number >= 1");
    if (parallel == 0 || parallel < -1) {
      throw refused(env, PARALLEL, "-1 (auto, 4 slots) or a whole number >= 1");
    }
    int cap = max <= 0 ? CachePolicy.UNLIMITED_MODELS : (int) Math.min(max, Integer.MAX_VALUE);
    Duration ttl = sleep < 0 ? CachePolicy.NO_IDLE_TTL : Duration.ofSeconds(sleep);
    CachePolicy policy = new CachePolicy(cap, CachePolicy.UNLIMITED_BYTES, ttl, CachePolicy.NO_PRESSURE_THRESHOLD)
        .withRules(VictimOrder.LEAST_RECENTLY_STARTED, UnsetKeepAlive.RESETS, ManualLoads.EVICTABLE);
    int slots = parallel < 0 ? AUTO_PARALLEL : (int) Math.min(parallel, Integer.MAX_VALUE);
    // Requests beyond the slots wait in the child's task queue, which has no bound.
    return new Settings(policy, SLEEP_CHECK, List.of(), slots, Integer.MAX_VALUE, ServerPolicy.LLAMA_ROUTER);
  }

  static Map<String, String> write(Settings s) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(MODELS_MAX, s.cache().maxModels() == CachePolicy.UNLIMITED_MODELS ? "0" : Integer.toString(s.cache().maxModels()));
    env.put(SLEEP_IDLE, s.cache().idleTtl().equals(CachePolicy.NO_IDLE_TTL) ? "-1" : Long.toString(s.cache().idleTtl().toSeconds()));
    env.put(PARALLEL, Integer.toString(s.maxConcurrentRequests()));
    return env;
  }

  private static long readInt(Map<String, String> env, String name, long defaultValue, String allowed) {
    String v = env.getOrDefault(name, "").strip();
    if (v.isEmpty()) {
      return defaultValue;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw refused(env, name, allowed);
    }
  }

  private static InvalidInputException refused(Map<String, String> env, String name, String allowed) {
    return new InvalidInputException(name + "='" + env.get(name).strip() + "' is invalid: llama-server's --" + name
        + " takes " + allowed + ".");
  }
}
