package io.mlxcap.settings;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The environment variables mlxcap reads, with their defaults and what each allows. */
public enum Setting {
  MLX_MAX_CACHED_MODELS("2",
      "most models cached (resident or loading) at once; LRU models are unloaded before a new one loads",
      "a whole number >= 1, or off for no cap (the server before the seed's fix)"),
  MLX_CACHE_CLEANUP_INTERVAL_SEC("600",
      "seconds between cleanup ticks, which trim the cache to MLX_MAX_CACHED_MODELS and apply MLX_MODEL_IDLE_TTL_SEC",
      "a whole number of seconds >= 0; 0 disables periodic cleanup"),
  MLX_PRELOAD_MODELS("fast",
      "models loaded at start, in order (past the cap if listed; the surplus goes at the next load or cleanup)",
      "comma-separated model names or aliases from the model table; empty disables preload"),
  MLX_MEMORY_PRESSURE_THRESHOLD("0.95",
      "fraction of host RAM in use above which LRU idle models are unloaded (the seed's legacy rule)",
      "a fraction in (0, 1] such as 0.95, a percentage such as 95%, or off"),
  MLX_MODEL_IDLE_TTL_SEC("off",
      "opt-in: a cleanup tick also unloads models idle for at least this many seconds",
      "a whole number of seconds >= 1, or off (or 0); needs MLX_CACHE_CLEANUP_INTERVAL_SEC > 0"),
  MLX_MAX_CACHE_BYTES("off",
      "opt-in byte budget: LRU models are unloaded until a new model fits; a model larger than the budget is refused",
      "a size such as 96GiB, 100GB or a whole number of bytes, or off"),
  MLX_MAX_CONCURRENT_REQUESTS("1",
      "requests served at once; the rest wait in a FIFO queue (1, like a single-GPU MLX server)",
      "a whole number >= 1"),
  MLX_MAX_QUEUE("512",
      "requests that may wait for a worker before new ones are refused (like Ollama's OLLAMA_MAX_QUEUE)",
      "a whole number >= 0");

  /** Other MLX_ variables mlxcap knows (read by the server, not the cache), so they are not reported as typos. */
  static final List<String> OTHER_KNOWN = List.of("MLX_API_KEY", "MLX_ALLOWED_ORIGINS");

  private final String defaultValue;
  private final String meaning;
  private final String allowed;

  Setting(String defaultValue, String meaning, String allowed) {
    this.defaultValue = defaultValue;
    this.meaning = meaning;
    this.allowed = allowed;
  }

  /** The value used when the variable is unset. */
  public String defaultValue() {
    return defaultValue;
  }

  /** What the setting does, in one phrase. */
  public String meaning() {
    return meaning;
  }

  /** What values are allowed, in one phrase. */
  public String allowed() {
    return allowed;
  }

  /** Returns the setting with this exact variable name, if any. */
  public static Optional<Setting> named(String name) {
    return Arrays.stream(values()).filter(s -> s.name().equals(name)).findFirst();
  }

  /** Returns a plain-text table of every setting: name, default, meaning and allowed values. */
  public static String describeAll() {
    return Arrays.stream(values())
        .map(s -> String.format("  %-31s default %-5s %s.%n  %31s Allowed: %s.",
            s.name(), s.defaultValue.isEmpty() ? "''" : s.defaultValue, s.meaning, "", s.allowed))
        .collect(Collectors.joining(System.lineSeparator()));
  }
}
