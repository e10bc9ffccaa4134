package io.mlxcap.cache;

import java.time.Duration;

/**
 * The limits the cache core enforces (a count cap, a byte budget, an idle TTL and a pressure line)
 * and the rules in which servers differ beyond their limits: which idle model goes first
 * ({@link VictimOrder}), what a request without a keep-alive does to its model's
 * ({@link UnsetKeepAlive}), whether the models the operator loaded are kept ({@link ManualLoads}),
 * llama-swap's groups and per-model limit, and LocalAI's pinned models and loads past the cap. Everything else (never evicting a busy model, one load per model, room
 * planned before anything goes, exact byte accounting) is the same for every policy.
 *
 * <p>A limit that is off holds its "never" value ({@link #UNLIMITED_MODELS}, {@link #UNLIMITED_BYTES},
 * {@link #NO_IDLE_TTL}, {@link #NO_PRESSURE_THRESHOLD}), so the rules compare against it with no
 * special case.
 */
public record CachePolicy(
    int maxModels, long maxBytes, Duration idleTtl, double pressureThreshold, VictimOrder victims,
    UnsetKeepAlive unsetKeepAlive, ManualLoads manualLoads, ModelGroups groups, Waiters waiters,
    int perModelRequests, java.util.Set<String> neverEvicted, Duration pastCapAfter,
    java.util.Map<String, Duration> modelTtls) {

  /** No cap on the number of cached models (the server before the seed's fix). */
  public static final int UNLIMITED_MODELS = Integer.MAX_VALUE;
  /** No byte budget. */
  public static final long UNLIMITED_BYTES = Long.MAX_VALUE;
  /** Models never expire for being idle. */
  public static final Duration NO_IDLE_TTL = Duration.ofSeconds(Long.MAX_VALUE);
  /** The memory-pressure rule never fires. */
  public static final double NO_PRESSURE_THRESHOLD = Double.POSITIVE_INFINITY;

  /** The mlx rules: least recently used first, and a request without a keep-alive resets its model's. */
  public CachePolicy(int maxModels, long maxBytes, Duration idleTtl, double pressureThreshold) {
    this(maxModels, maxBytes, idleTtl, pressureThreshold, VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.RESETS,
        ManualLoads.EVICTABLE);
  }

  /** A policy with these limits and rules, no groups, waiters in order, any number of requests per model. */
  public CachePolicy(int maxModels, long maxBytes, Duration idleTtl, double pressureThreshold, VictimOrder victims,
      UnsetKeepAlive unsetKeepAlive, ManualLoads manualLoads) {
    this(maxModels, maxBytes, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, ModelGroups.NONE,
        Waiters.IN_ORDER, UNLIMITED_REQUESTS, java.util.Set.of(), NEVER_PAST_CAP, java.util.Map.of());
  }

  /** Any number of requests per model may be admitted. */
  public static final int UNLIMITED_REQUESTS = Integer.MAX_VALUE;

  /** A load that finds its room held by busy models waits for them, however long: it never goes past the count cap. */
  public static final Duration NEVER_PAST_CAP = Duration.ofSeconds(Long.MAX_VALUE);

  /** A policy with these limits, rules and llama-swap's parts, every model evictable, never past the cap. */
  public CachePolicy(int maxModels, long maxBytes, Duration idleTtl, double pressureThreshold, VictimOrder victims,
      UnsetKeepAlive unsetKeepAlive, ManualLoads manualLoads, ModelGroups groups, Waiters waiters, int perModelRequests) {
    this(maxModels, maxBytes, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, groups, waiters,
        perModelRequests, java.util.Set.of(), NEVER_PAST_CAP, java.util.Map.of());
  }

  public CachePolicy {
    java.util.Objects.requireNonNull(victims, "victims");
    java.util.Objects.requireNonNull(unsetKeepAlive, "unsetKeepAlive");
    java.util.Objects.requireNonNull(manualLoads, "manualLoads");
    java.util.Objects.requireNonNull(groups, "groups");
    java.util.Objects.requireNonNull(waiters, "waiters");
    neverEvicted = java.util.Set.copyOf(neverEvicted);
    modelTtls = java.util.Map.copyOf(modelTtls);
    for (Duration ttl : modelTtls.values()) {
      if (ttl.isNegative()) {
        throw new IllegalArgumentException("a model's idle TTL must be >= 0, was " + ttl);
      }
    }
    if (pastCapAfter == null || pastCapAfter.isNegative()) {
      throw new IllegalArgumentException("pastCapAfter must be >= 0 (0: past the cap at once), was " + pastCapAfter);
    }
    if (perModelRequests < 1) {
      throw new IllegalArgumentException("perModelRequests must be >= 1, was " + perModelRequests);
    }
    if (maxModels < 1) {
      throw new IllegalArgumentException("maxModels must be >= 1, was " + maxModels);
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be >= 1, was " + maxBytes);
    }
    if (idleTtl == null || idleTtl.isNegative()) {
      throw new IllegalArgumentException("idleTtl must be >= 0 (0: unload when idle), was " + idleTtl);
    }
    if (!(pressureThreshold > 0)) {
      throw new IllegalArgumentException("pressureThreshold must be > 0, was " + pressureThreshold);
    }
  }

  /** The seed's settings after its fix: at most two models, the 95 % rule, nothing else. */
  public static CachePolicy seedDefaults() {
    return new CachePolicy(2, UNLIMITED_BYTES, NO_IDLE_TTL, 0.95);
  }

  /** Returns this policy with a different count cap. */
  public CachePolicy withMaxModels(int value) {
    return new CachePolicy(value, maxBytes, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, groups, waiters, perModelRequests, neverEvicted, pastCapAfter, modelTtls);
  }

  /** Returns this policy with a different byte budget. */
  public CachePolicy withMaxBytes(long value) {
    return new CachePolicy(maxModels, value, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, groups, waiters, perModelRequests, neverEvicted, pastCapAfter, modelTtls);
  }

  /** Returns this policy with a different idle TTL. */
  public CachePolicy withIdleTtl(Duration value) {
    return new CachePolicy(maxModels, maxBytes, value, pressureThreshold, victims, unsetKeepAlive, manualLoads, groups, waiters, perModelRequests, neverEvicted, pastCapAfter, modelTtls);
  }

  /** Returns this policy with a different pressure threshold. */
  public CachePolicy withPressureThreshold(double value) {
    return new CachePolicy(maxModels, maxBytes, idleTtl, value, victims, unsetKeepAlive, manualLoads, groups, waiters, perModelRequests, neverEvicted, pastCapAfter, modelTtls);
  }

  /** Returns this policy with different rules: its limits stay. */
  public CachePolicy withRules(VictimOrder order, UnsetKeepAlive unset, ManualLoads manual) {
    return new CachePolicy(maxModels, maxBytes, idleTtl, pressureThreshold, order, unset, manual, groups, waiters,
        perModelRequests, neverEvicted, pastCapAfter, modelTtls);
  }

  /** Returns this policy with llama-swap's parts: groups, how waiters are served, requests admitted per model. */
  public CachePolicy withSwapping(ModelGroups g, Waiters w, int perModel) {
    return new CachePolicy(maxModels, maxBytes, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, g, w,
        perModel, neverEvicted, pastCapAfter, modelTtls);
  }

  /**
   * Returns this policy with LocalAI's parts: {@code pinned} models, counted under the cap but never
   * evicted but by a manual unload, and {@code pastCap}, how long a load waits for busy models to free
   * its room under the count cap before it loads past it ({@link #NEVER_PAST_CAP}: it waits for them).
   * A policy that loads past its cap also does so at once when no busy model holds the room (only
   * loads in progress and pinned models do), and keeps a surplus until the next load evicts it.
   */
  public CachePolicy withBackends(java.util.Set<String> pinned, Duration pastCap) {
    return new CachePolicy(maxModels, maxBytes, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, groups,
        waiters, perModelRequests, pinned, pastCap, modelTtls);
  }

  /**
   * Returns this policy with an idle TTL of their own for some models (llama-swap's per-model
   * {@code ttl}); the others keep {@link #idleTtl}. A request's keep-alive still overrides either.
   */
  public CachePolicy withModelTtls(java.util.Map<String, Duration> ttls) {
    return new CachePolicy(maxModels, maxBytes, idleTtl, pressureThreshold, victims, unsetKeepAlive, manualLoads, groups,
        waiters, perModelRequests, neverEvicted, pastCapAfter, ttls);
  }

  /** The idle TTL of {@code model} in nanoseconds: its own, else the policy's; {@link Long#MAX_VALUE} when off. */
  long idleTtlNanos(String model) {
    Duration own = modelTtls.get(model);
    return own == null ? idleTtlNanos() : saturated(own);
  }

  private static long saturated(Duration d) {
    return d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
  }

  /**
   * Whether the count cap takes the least recently used of all models and nothing else decides: no
   * other victim order, no kept or pinned models, no groups, no loads past the cap. Only then is the
   * one-pass LRU curve (stack distances over every model) exact for the policy.
   */
  public boolean isPlainLru() {
    return victims == VictimOrder.LEAST_RECENTLY_USED && manualLoads == ManualLoads.EVICTABLE && !groups.active()
        && neverEvicted.isEmpty() && !loadsPastCap();
  }

  /** Whether a load may go past the count cap after waiting {@link #pastCapAfter} (LocalAI). */
  public boolean loadsPastCap() {
    return !pastCapAfter.equals(NEVER_PAST_CAP);
  }

  /** Returns {@link #pastCapAfter} in nanoseconds, saturating at {@link Long#MAX_VALUE}. */
  long pastCapNanos() {
    return saturated(pastCapAfter);
  }

  /** Returns the idle TTL in nanoseconds, saturating at {@link Long#MAX_VALUE} when off. */
  long idleTtlNanos() {
    return saturated(idleTtl);
  }
}
