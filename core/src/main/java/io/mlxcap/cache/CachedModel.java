package io.mlxcap.cache;

/**
 * One model in the cache as the core sees it at a moment: for {@code /admin/cache}, {@code /api/ps} and tests.
 *
 * @param bytes the reserved estimate while loading, the reported bytes once resident
 * @param pins how many requests are using or waiting on this model
 * @param lastUsedNanos the ticker time of the last use: load start, acquire or release (its recency)
 * @param idleSinceNanos the later of the last use and the end of the load: what the idle TTL counts from
 * @param expiresAtNanos when the cleanup tick may unload it for being idle (its keep-alive or the idle
 *     TTL after {@code idleSinceNanos}); {@code Long.MAX_VALUE} while it loads or is in use, or never
 * @param kept the operator loaded it and the policy keeps such models ({@link ManualLoads#KEPT}): only
 *     a manual unload removes it
 */
public record CachedModel(String model, boolean loading, long bytes, int pins, long lastUsedNanos,
    long idleSinceNanos, long expiresAtNanos, boolean kept) {

  /** True when the model is resident, no request uses it and the policy does not keep it, so it may be evicted. */
  public boolean evictable() {
    return !loading && pins == 0 && !kept;
  }
}
