package io.mlxcap.sweep;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The seed note's settings and its advice, as configurations a report scores beside its
 * recommendation, so the reader sees what each piece of advice buys on this trace.
 *
 * @param name what the seed note calls it
 * @param configuration the settings it stands for (every cache variable set, so a trace's own settings do not leak in)
 */
public record Advice(String name, Configuration configuration) {

  /** The server before the seed's fix: no cap, no cleanup, the 32b and the 3.8b preloaded, the 95 % rule alone. */
  public static final String BEFORE_THE_FIX = "before the fix";
  /** The fix's defaults. */
  public static final String THE_FIX = "the fix's defaults";

  /** The seed's old settings, its fix, and the four pieces of advice of its note. */
  public static List<Advice> all() {
    return List.of(
        advice(BEFORE_THE_FIX, "off", "0", "default,fast"),
        advice(THE_FIX, "2", "600", "fast"),
        advice("lowest peak: cap 1, no preload", "1", "600", ""),
        advice("first-request latency: cap 3, preload default,fast", "3", "600", "default,fast"),
        advice("preload off", "2", "600", ""),
        advice("periodic cleanup off", "2", "0", "fast"));
  }

  private static Advice advice(String name, String cap, String cleanup, String preload) {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("MLX_MAX_CACHED_MODELS", cap);
    settings.put("MLX_CACHE_CLEANUP_INTERVAL_SEC", cleanup);
    settings.put("MLX_PRELOAD_MODELS", preload);
    settings.put("MLX_MODEL_IDLE_TTL_SEC", "off");
    settings.put("MLX_MAX_CACHE_BYTES", "off");
    return new Advice(name, Configuration.of(settings, Map.of()));
  }
}
