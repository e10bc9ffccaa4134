package io.mlxcap.sim;

import io.mlxcap.ByteSize;
import io.mlxcap.Durations;
import io.mlxcap.InvalidInputException;
import java.util.Map;
import java.util.Optional;

/**
 * The parameters of a {@link HostProfile} as a user writes them ({@code --host-ram 128GiB}): one
 * parser for {@code simulate}'s options and for the host axes of a sweep grid.
 */
public enum HostParameter {
  HOST_RAM("host-ram", "a size such as 128GiB"),
  HOST_OTHER("host-other", "a size such as 8GiB"),
  RUNTIME_BASE("runtime-base", "a size such as 1GB"),
  LOAD_BANDWIDTH("load-bandwidth", "bytes per second such as 2GB"),
  LOAD_OVERHEAD("load-overhead", "a duration such as 1s"),
  LOAD_TRANSIENT("load-transient", "a fraction such as 0.1"),
  LOAD_GROWTH("load-growth", "a size such as 5MB");

  private final String key;
  private final String example;

  HostParameter(String key, String example) {
    this.key = key;
    this.example = example;
  }

  /** The name as a grid axis writes it: {@code host-ram}. */
  public String key() {
    return key;
  }

  /** The command-line option: {@code --host-ram}. */
  public String option() {
    return "--" + key;
  }

  /**
   * Returns {@code base} with {@code values} applied together (so {@code --host-ram 4GiB --host-other
   * 1GiB} is checked as a whole, not one at a time).
   *
   * @throws InvalidInputException naming the option, the value and what it should be
   */
  public static HostProfile profile(HostProfile base, Map<HostParameter, String> values) {
    long ram = base.ramBytes();
    long other = base.otherBytes();
    long runtime = base.runtimeBaseBytes();
    double bandwidth = base.loadBytesPerSecond();
    java.time.Duration overhead = base.loadOverhead();
    double transientFraction = base.loadTransient();
    long growth = base.growthPerLoadBytes();
    for (Map.Entry<HostParameter, String> e : values.entrySet()) {
      HostParameter p = e.getKey();
      String v = e.getValue();
      switch (p) {
        case HOST_RAM -> ram = p.size(v);
        case HOST_OTHER -> other = p.size(v);
        case RUNTIME_BASE -> runtime = p.size(v);
        case LOAD_BANDWIDTH -> bandwidth = p.size(v);
        case LOAD_OVERHEAD -> overhead = Durations.parse(p.option(), v);
        case LOAD_TRANSIENT -> transientFraction = p.fraction(v);
        case LOAD_GROWTH -> growth = p.size(v);
      }
    }
    return new HostProfile(ram, other, runtime, bandwidth, overhead, transientFraction, growth, base.loadSpread(),
        base.loadSecondsPerEvictedByte(), base.service());
  }

  /** Checks that {@code value} reads as this parameter's kind of value (size, duration or fraction). */
  public void check(String value) {
    switch (this) {
      case LOAD_OVERHEAD -> Durations.parse(option(), value);
      case LOAD_TRANSIENT -> fraction(value);
      default -> size(value);
    }
  }

  /** The exact value of {@code host} for this parameter, as {@link #profile} reads it back (bytes, ms). */
  public String valueOf(HostProfile host) {
    return switch (this) {
      case HOST_RAM -> Long.toString(host.ramBytes());
      case HOST_OTHER -> Long.toString(host.otherBytes());
      case RUNTIME_BASE -> Long.toString(host.runtimeBaseBytes());
      case LOAD_BANDWIDTH -> Long.toString(Math.round(host.loadBytesPerSecond()));
      case LOAD_OVERHEAD -> host.loadOverhead().toMillis() + "ms";
      case LOAD_TRANSIENT -> Double.toString(host.loadTransient());
      case LOAD_GROWTH -> Long.toString(host.growthPerLoadBytes());
    };
  }

  /** The parameter a grid axis or option names ({@code host-ram} or {@code --host-ram}), if any. */
  public static Optional<HostParameter> named(String name) {
    String bare = name.startsWith("--") ? name.substring(2) : name;
    for (HostParameter p : values()) {
      if (p.key.equals(bare)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private long size(String text) {
    try {
      return ByteSize.parse(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(option() + " '" + text + "': " + e.getMessage());
    }
  }

  private double fraction(String text) {
    try {
      return Double.parseDouble(text.strip());
    } catch (NumberFormatException e) {
      throw new InvalidInputException(option() + " '" + text + "' is not a number; write " + example);
    }
  }
}
