package io.mlxcap.settings;

import io.mlxcap.Durations;
import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.ManualLoads;
import io.mlxcap.cache.UnsetKeepAlive;
import io.mlxcap.cache.VictimOrder;
import io.mlxcap.model.ModelTable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * LM Studio's server settings that decide what stays loaded, named after its Developer tab and
 * {@code lms} (LM Studio has no environment variables for them, and is not open source: the rules are
 * read from lmstudio.ai/docs/api/ttl-and-auto-evict and /docs/app/advanced/parallel-requests).
 *
 * <ul>
 *   <li>{@code auto-evict} ({@code on}|{@code off}, default on): "unloads previously JIT loaded models
 *       before loading new ones", so one model loaded on demand at a time; off, no limit.
 *   <li>{@code idle-ttl} (default {@code 60m}; {@code off}): how long a model loaded on demand may
 *       stay idle, unless a request's {@code ttl} field says otherwise.
 *   <li>{@code max-concurrent-predictions} (default 4): requests served at once.
 *   <li>{@code lms-load}: the models loaded by hand ({@code lms load}) before the traffic; neither
 *       Auto-Evict nor the idle TTL touches them.
 * </ul>
 */
final class LmStudioSettings {
  static final String AUTO_EVICT = "auto-evict";
  static final String IDLE_TTL = "idle-ttl";
  static final String PARALLEL = "max-concurrent-predictions";
  static final String LMS_LOAD = "lms-load";
  static final List<String> VARIABLES = List.of(AUTO_EVICT, IDLE_TTL, PARALLEL, LMS_LOAD);

  /** How often the shells look for expired models. */
  static final Duration EXPIRY_CHECK = Duration.ofSeconds(1);

  private LmStudioSettings() {}

  static Settings read(Map<String, String> env, ModelTable table) {
    boolean autoEvict = switch (value(env, AUTO_EVICT).toLowerCase(Locale.ROOT)) {
      case "", "on", "true" -> true;
      case "off", "false" -> false;
      default -> throw new InvalidInputException(AUTO_EVICT + "='" + value(env, AUTO_EVICT)
          + "' is invalid: LM Studio's Auto-Evict is on or off.");
    };
    Duration ttl = readTtl(env);
    int parallel = readParallel(env);
    List<String> manual = Settings.resolveModels(LMS_LOAD, env.get(LMS_LOAD), table);
    CachePolicy policy = new CachePolicy(autoEvict ? 1 : CachePolicy.UNLIMITED_MODELS, CachePolicy.UNLIMITED_BYTES, ttl,
        CachePolicy.NO_PRESSURE_THRESHOLD).withRules(VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.STAYS, ManualLoads.KEPT);
    return new Settings(policy, EXPIRY_CHECK, manual, parallel, Integer.MAX_VALUE, ServerPolicy.LMSTUDIO);
  }

  static Map<String, String> write(Settings s) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(AUTO_EVICT, s.cache().maxModels() == CachePolicy.UNLIMITED_MODELS ? "off" : "on");
    Duration ttl = s.cache().idleTtl();
    env.put(IDLE_TTL, ttl.equals(CachePolicy.NO_IDLE_TTL) ? "off"
        : ttl.toSeconds() % 60 == 0 && ttl.toNanosPart() == 0 ? ttl.toMinutes() + "m" : ttl.toMillis() + "ms");
    env.put(PARALLEL, Integer.toString(s.maxConcurrentRequests()));
    env.put(LMS_LOAD, String.join(",", s.preloadModels()));
    return env;
  }

  private static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null ? "" : v.strip();
  }

  private static Duration readTtl(Map<String, String> env) {
    String v = value(env, IDLE_TTL);
    if (v.isEmpty()) {
      return Duration.ofMinutes(60);
    }
    if (v.equalsIgnoreCase("off")) {
      return CachePolicy.NO_IDLE_TTL;
    }
    try {
      return Durations.parse(v);
    } catch (InvalidInputException e) {
      throw new InvalidInputException(IDLE_TTL + "='" + v + "' is invalid: write a duration such as 60m or 300s,"
          + " or off (LM Studio's \"Auto unload unused JIT loaded models\" switched off).");
    }
  }

  private static int readParallel(Map<String, String> env) {
    String v = value(env, PARALLEL);
    if (v.isEmpty()) {
      return 4;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new InvalidInputException(PARALLEL + "='" + v + "' is invalid: LM Studio's Max Concurrent Predictions"
        + " is a whole number >= 1.");
  }
}
