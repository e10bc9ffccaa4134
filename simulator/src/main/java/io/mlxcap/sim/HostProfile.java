package io.mlxcap.sim;

import io.mlxcap.ByteSize;
import java.time.Duration;
import java.util.List;
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
 *     that took 20 ms longer than the line is 0.020); the n-th load of a simulation takes the line plus
 *     one of them, in a fixed scrambled order, so predicted waits have the measured spread. Added,
 *     not multiplied: a stall costs a small model as much time as a large one. Empty: every load
 *     takes the line exactly
 */
public record HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
    Duration loadOverhead, double loadTransient, long growthPerLoadBytes, List<Double> loadTimeResiduals) {

  /** 128 GiB host, 8 GiB used by others, 1 GB runtime, loads at 2 GB/s plus 1 s, no transient copy, no growth. */
  public static final HostProfile DEFAULT =
      new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0, List.of());

  /** A profile whose loads take the line exactly. */
  public HostProfile(long ramBytes, long otherBytes, long runtimeBaseBytes, double loadBytesPerSecond,
      Duration loadOverhead, double loadTransient, long growthPerLoadBytes) {
    this(ramBytes, otherBytes, runtimeBaseBytes, loadBytesPerSecond, loadOverhead, loadTransient, growthPerLoadBytes, List.of());
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
    loadTimeResiduals = List.copyOf(loadTimeResiduals);
    require(loadTimeResiduals.stream().allMatch(Double::isFinite), "load time residuals must be numbers");
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new io.mlxcap.InvalidInputException(message);
    }
  }

  /** Nanoseconds to load a model of {@code bytes}: the load-time line. */
  public long loadNanos(long bytes) {
    return loadOverhead.toNanos() + Math.round(bytes / loadBytesPerSecond * 1e9);
  }

  /** Nanoseconds the {@code n}-th load (from 0) of a simulation takes for {@code bytes}: the line plus a measured residual. */
  public long loadNanos(long bytes, long n) {
    long line = loadNanos(bytes);
    if (loadTimeResiduals.isEmpty()) {
      return line;
    }
    int size = loadTimeResiduals.size();
    // A fixed scramble of the residuals, so slow and fast loads are spread over the run, not sorted.
    int index = (int) ((n * 0x9E3779B97F4A7C15L >>> 1) % size);
    return Math.max(0, line + Math.round(loadTimeResiduals.get(index) * 1e9));
  }

  /** One line for people. */
  public String describe() {
    return String.format(Locale.ROOT, "%s RAM (%.0f GiB), %s used by others, %s runtime; loads at %s/s + %s%s",
        ByteSize.format(ramBytes), ramBytes / (double) (1L << 30), ByteSize.format(otherBytes),
        ByteSize.format(runtimeBaseBytes), ByteSize.format(Math.round(loadBytesPerSecond)),
        loadOverhead.toMillis() / 1000.0 + " s",
        loadTransient > 0 ? String.format(Locale.ROOT, ", +%.0f %% while loading", loadTransient * 100) : "")
        + (growthPerLoadBytes > 0 ? ", +" + ByteSize.format(growthPerLoadBytes) + " kept per load" : "")
        + (loadTimeResiduals.isEmpty() ? "" : String.format(Locale.ROOT, ", loads %+.0f to %+.0f ms off the line (%d measured)",
            loadTimeResiduals.stream().mapToDouble(Double::doubleValue).min().orElse(0) * 1e3,
            loadTimeResiduals.stream().mapToDouble(Double::doubleValue).max().orElse(0) * 1e3, loadTimeResiduals.size()));
  }
}
