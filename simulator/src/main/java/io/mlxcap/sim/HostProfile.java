package io.mlxcap.sim;

import io.mlxcap.ByteSize;
import java.time.Duration;
import java.util.Locale;

/**
 * The machine a simulation runs on, and how fast it loads models. Defaults are the seed's 128 GB
 * machine with rough Apple-silicon load speeds: assumptions to replace with calibrated figures.
 *
 * @param ramBytes the host's RAM
 * @param otherBytes RAM used by everything but the server (OS, other programs)
 * @param runtimeBaseBytes the server process before any model: interpreter, framework, buffers
 * @param loadBytesPerSecond effective load bandwidth: bytes of model made resident per second
 * @param loadOverhead fixed time of every load on top of the bytes
 * @param loadTransient extra memory a load holds while in progress, as a fraction of the model's bytes
 * @param growthPerLoadBytes what the process keeps after each load beyond the model's own bytes, for
 *     good (allocator fragmentation, a runtime's caches): measured by {@code calibrate}, 0 by default
 * @param loadSpread how measured loads spread around the load-time line: the process's first loads
 *     (warm-up), each model's usual distance from the line, and how far loads stray in proportion to
 *     their length ({@link LoadSpread}); {@link LoadSpread#NONE}: every load takes the line exactly
 * @param loadSecondsPerEvictedByte how much longer a load takes per byte of the models evicted to make
 *     room for it: the server frees them while the load runs (measured by {@code calibrate}; 0 by default)
 * @param service how generations that overlap slow each other, and what the first one after a load
 *     costs ({@link ServiceContention}); {@link ServiceContention#NONE}: each is served at its solo speed
 */
public record HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
    Duration loadOverhead, double loadTransient, long growthPerLoadBytes, LoadSpread loadSpread,
    double loadSecondsPerEvictedByte, ServiceContention service) {

  /** A profile whose generations do not slow each other. */
  public HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
      Duration loadOverhead, double loadTransient, long growthPerLoadBytes, LoadSpread loadSpread,
      double loadSecondsPerEvictedByte) {
    this(ramBytes, otherBytes, runtimeBaseBytes, loadBytesPerSecond, loadOverhead, loadTransient, growthPerLoadBytes,
        loadSpread, loadSecondsPerEvictedByte, ServiceContention.NONE);
  }

  /** 128 GiB host, 8 GiB used by others, 1 GB runtime, loads at 2 GB/s plus 1 s, no transient copy, no growth. */
  public static final HostProfile DEFAULT =
      new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0, LoadSpread.NONE, 0);

  /** A profile whose loads take the line exactly. */
  public HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
      Duration loadOverhead, double loadTransient, long growthPerLoadBytes) {
    this(ramBytes, otherBytes, runtimeBaseBytes, loadBytesPerSecond, loadOverhead, loadTransient, growthPerLoadBytes, LoadSpread.NONE, 0);
  }

  /** A profile without process growth. */
  public HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
      Duration loadOverhead, double loadTransient) {
    this(ramBytes, otherBytes, runtimeBaseBytes, loadBytesPerSecond, loadOverhead, loadTransient, 0);
  }

  public HostProfile {
    require(ramBytes > 0, "--host-ram must be more than 0");
    require(otherBytes >= 0 && otherBytes < ramBytes, "--host-other must be at least 0 and less than --host-ram");
    require(runtimeBaseBytes >= 0, "--runtime-base must be at least 0");
    require(loadBytesPerSecond > 0 && Double.isFinite(loadBytesPerSecond), "--load-bandwidth must be more than 0");
    require(!loadOverhead.isNegative(), "--load-overhead must not be negative");
    require(loadTransient >= 0 && Double.isFinite(loadTransient), "--load-transient must be at least 0");
    require(growthPerLoadBytes >= 0, "--load-growth must be at least 0");
    require(loadSecondsPerEvictedByte >= 0 && Double.isFinite(loadSecondsPerEvictedByte),
        "the load delay per evicted byte must be at least 0");
    java.util.Objects.requireNonNull(loadSpread, "loadSpread");
    java.util.Objects.requireNonNull(service, "service");
  }

  /** This profile on a host of {@code ramBytes} of which others use {@code otherBytes}. */
  public HostProfile withRam(long ramBytes, long otherBytes) {
    return new HostProfile(ramBytes, otherBytes, runtimeBaseBytes, loadBytesPerSecond, loadOverhead, loadTransient,
        growthPerLoadBytes, loadSpread, loadSecondsPerEvictedByte, service);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new io.mlxcap.InvalidInputException(message);
    }
  }

  /** Nanoseconds a load takes beyond its own time because {@code evictedBytes} were evicted to make room for it. */
  public long evictionDelayNanos(long evictedBytes) {
    return Math.round(evictedBytes * loadSecondsPerEvictedByte * 1e9);
  }

  /** Nanoseconds to load a model of {@code bytes}: the load-time line. */
  public long loadNanos(long bytes) {
    return loadOverhead.toNanos() + Math.round(bytes / loadBytesPerSecond * 1e9);
  }

  /**
   * The load times of one replay's models, {@code names[i]} resident at {@code bytes[i]}, worked out
   * once for its many loads. It counts the loads it is asked for: the process's first loads take the
   * warm-up times in order, whatever their model; the n-th load after them takes its model's usual
   * time (line plus offset) times 1 + the n-th deviation of the spread (the model's own deviations
   * when the profile has them, else the pooled ones), in a fixed scrambled order
   * that uses each deviation once in every round of as many loads. The deviations are the machine's,
   * pooled over models, so they are dealt out by the process's count, not by each model's: a model's
   * count would give every model the same few first ones in a short replay.
   */
  public LoadClock loadClock(String[] names, long[] bytes) {
    long[] line = new long[names.length];
    long[] offset = new long[names.length];
    double[][] deviations = new double[names.length][];
    for (int i = 0; i < names.length; i++) {
      line[i] = loadNanos(bytes[i]);
      offset[i] = Math.round(loadSpread.offsetSeconds().getOrDefault(names[i], 0.0) * 1e9);
      deviations[i] = loadSpread.relativeByModel().getOrDefault(names[i], loadSpread.relative()).stream()
          .mapToDouble(Double::doubleValue).toArray();
    }
    return new LoadClock(line, offset, loadSpread.warmupSeconds().stream().mapToLong(w -> Math.round(w * 1e9)).toArray(), deviations);
  }

  /** The load times of one replay (see {@link #loadClock}); one per replay. */
  public static final class LoadClock {
    private final long[] line;
    private final long[] offset;
    private final long[] warmup;
    private final double[][] deviations;
    private final long[] stride;
    private long loads;

    LoadClock(long[] line, long[] offset, long[] warmup, double[][] deviations) {
      this.line = line;
      this.offset = offset;
      this.warmup = warmup;
      this.deviations = deviations;
      this.stride = new long[deviations.length];
      for (int i = 0; i < deviations.length; i++) {
        stride[i] = deviations[i].length == 0 ? 1 : stride(deviations[i].length);
      }
    }

    /** Nanoseconds the process's next load, of model {@code model} (an index), takes. */
    public long next(int model) {
      if (loads < warmup.length) {
        return Math.max(0, line[model] + warmup[(int) loads++]);
      }
      double[] relative = deviations[model];
      int size = relative.length;
      long n = loads++ - warmup.length;
      long usual = line[model] + offset[model];
      return Math.max(0, usual + (size == 0 ? 0 : Math.round(usual * relative[(int) ((n % size) * stride[model] % size)])));
    }
  }

  /** A step near 0.618 × {@code size} that shares no factor with it: stepping by it visits every index once. */
  private static long stride(int size) {
    long step = Math.max(1, Math.round(size * 0.6180339887));
    while (java.math.BigInteger.valueOf(step).gcd(java.math.BigInteger.valueOf(size)).intValue() != 1) {
      step++;
    }
    return step;
  }

  /** One line for people. */
  public String describe() {
    return String.format(Locale.ROOT, "%s RAM (%.0f GiB), %s used by others, %s runtime; loads at %s/s + %s%s",
        ByteSize.format(ramBytes), ramBytes / (double) (1L << 30), ByteSize.format(otherBytes),
        ByteSize.format(runtimeBaseBytes), ByteSize.format(Math.round(loadBytesPerSecond)),
        loadOverhead.toMillis() / 1000.0 + " s",
        loadTransient > 0 ? String.format(Locale.ROOT, ", +%.0f %% while loading", loadTransient * 100) : "")
        + (growthPerLoadBytes > 0 ? ", +" + ByteSize.format(growthPerLoadBytes) + " kept per load" : "")
        + (loadSecondsPerEvictedByte > 0 ? String.format(Locale.ROOT, ", +%.1f ms per GB evicted for a load",
            loadSecondsPerEvictedByte * 1e12) : "")
        + (loadSpread.relative().isEmpty() ? "" : String.format(Locale.ROOT, ", loads %+.0f to %+.0f %% off their usual time (%d measured)",
            loadSpread.relative().get(0) * 100, loadSpread.relative().get(loadSpread.relative().size() - 1) * 100,
            loadSpread.relative().size()))
        + (loadSpread.warmupSeconds().isEmpty() ? "" : ", the first " + loadSpread.warmupSeconds().size() + " loads "
            + loadSpread.warmupSeconds().stream().map(w -> String.format(Locale.ROOT, "%+.0f", w * 1e3))
                .collect(java.util.stream.Collectors.joining("/")) + " ms (warm-up)");
  }
}
