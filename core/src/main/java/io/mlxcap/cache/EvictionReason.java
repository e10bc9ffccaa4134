package io.mlxcap.cache;

import java.util.Locale;

/** Why the cache core unloaded a model. */
public enum EvictionReason {
  /** Room for a new model under {@code MLX_MAX_CACHED_MODELS} (the seed's evict-before-load). */
  MAX_MODELS,
  /** The periodic cleanup trimmed the cache to {@code MLX_MAX_CACHED_MODELS}. */
  CLEANUP,
  /** Idle longer than {@code MLX_MODEL_IDLE_TTL_SEC}, seen by a cleanup tick. */
  IDLE_TTL,
  /** Host RAM in use above {@code MLX_MEMORY_PRESSURE_THRESHOLD} (the seed's legacy 95 % rule). */
  PRESSURE,
  /** Room for a new model, or a larger-than-expected one, under {@code MLX_MAX_CACHE_BYTES}. */
  BUDGET,
  /** Unloaded on an operator's request. */
  MANUAL,
  /** Its group ({@link ModelGroups}) may not stay loaded beside the model a request or load wants now (llama-swap's swap). */
  SWAP;

  /** Returns the name traces and metrics use, e.g. {@code max_models}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
