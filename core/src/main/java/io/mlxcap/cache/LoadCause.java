package io.mlxcap.cache;

import java.util.Locale;

/** What made the cache core start loading a model. */
public enum LoadCause {
  /** A request for a model that was not cached. */
  REQUEST,
  /** {@code MLX_PRELOAD_MODELS} at start. */
  PRELOAD,
  /** An operator's load command. */
  MANUAL;

  /** Returns the name traces and metrics use, e.g. {@code preload}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
