package io.mlxcap.sim;

import io.mlxcap.ByteSize;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * @param loadTimeResiduals how measured loads spread around the load-time line, in seconds (a load
 *     that took 20 ms longer than the line is 0.020), by model, and under {@code ""} for all models
 *     together; a model's n-th load in a simulation takes the line plus one of its own residuals (or
 *     the pooled ones when it has none), in a fixed scrambled order, so predicted waits spread as the
 *     measured loads did. Added, not multiplied. Empty: every load takes the line exactly
 * @param loadSecondsPerEvictedByte how much longer a load takes per byte of the models evicted to make
 *     room for it: the server frees them while the load runs (measured by {@code calibrate}; 0 by default)
 */
public record HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
    Duration loadOverhead, double loadTransient, long growthPerLoadBytes, Map<String, List<Double>> loadTimeResiduals,
    double loadSecondsPerEvictedByte) {

  /** 128 GiB host, 8 GiB used by others, 1 GB runtime, loads at 2 GB/s plus 1 s, no transient copy, no growth. */
  public static final HostProfile DEFAULT =
      new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0, Map.of(), 0);

  /** A profile whose loads take the line exactly. */
  public HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
      Duration loadOverhead, double loadTransient, long growthPerLoadBytes) {
    this(ramBytes, otherBytes, runtimeBaseBytes, loadBytesPerSecond, loadOverhead, loadTransient, growthPerLoadBytes, Map.of(), 0);
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
    java.util.TreeMap<String, List<Double>> copy = new java.util.TreeMap<>();
    loadTimeResiduals.forEach((model, values) -> {
      require(values.stream().allMatch(Double::isFinite), "load time residuals must be numbers");
      if (!values.isEmpty()) {
        copy.put(model, List.copyOf(values));
      }
    });
    loadTimeResiduals = java.util.Collections.unmodifiableMap(copy);
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
   * The load times of {@code model} at {@code bytes}, worked out once for a replay's many loads: the
   * line plus one of the model's measured residuals (the pooled ones when it has none).
   */
  public LoadTime loadTime(String model, long bytes) {
    List<Double> residuals = loadTimeResiduals.getOrDefault(model, loadTimeResiduals.get(""));
    long[] nanos = residuals == null ? new long[0]
        : residuals.stream().mapToLong(r -> Math.round(r * 1e9)).toArray();
    return new LoadTime(loadNanos(bytes), nanos, nanos.length == 0 ? 1 : stride(nanos.length));
  }

  /**
   * One model's load times: the line, plus its residuals in a fixed scramble that uses every one once
   * in each round of as many loads, so slow and fast loads are spread over the run, not sorted, and
   * the spread is the measured one.
   */
  public static final class LoadTime {
    private final long line;
    private final long[] residuals;
    private final long stride;

    LoadTime(long line, long[] residuals, long stride) {
      this.line = line;
      this.residuals = residuals;
      this.stride = stride;
    }

    /** Nanoseconds the {@code n}-th load (from 0) takes. */
    public long nanos(long n) {
      int size = residuals.length;
      if (size == 0) {
        return line;
      }
      return Math.max(0, line + residuals[(int) ((n % size) * stride % size)]);
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
        + (!loadTimeResiduals.containsKey("") ? "" : String.format(Locale.ROOT, ", loads %+.0f to %+.0f ms off the line (%d measured)",
            loadTimeResiduals.get("").stream().mapToDouble(Double::doubleValue).min().orElse(0) * 1e3,
            loadTimeResiduals.get("").stream().mapToDouble(Double::doubleValue).max().orElse(0) * 1e3, loadTimeResiduals.get("").size()));
  }
}
