package io.mlxcap.model;

import io.mlxcap.ByteSize;

/**
 * How many bytes a model holds in RAM once loaded: a low and a high bound and the value expected.
 *
 * <p>The seed gives sizes as ranges ("20–25 GB"), so predictions carry the range through.
 */
public record SizeRange(long lowBytes, long expectedBytes, long highBytes) {

  /** Which value of a range to take. */
  public enum Estimate {
    LOW,
    EXPECTED,
    HIGH
  }

  public SizeRange {
    if (lowBytes <= 0) {
      throw new IllegalArgumentException("the low size must be more than 0 bytes, was " + lowBytes);
    }
    if (lowBytes > expectedBytes || expectedBytes > highBytes) {
      throw new IllegalArgumentException(
          "sizes must satisfy low <= expected <= high, were " + ByteSize.format(lowBytes) + ", "
              + ByteSize.format(expectedBytes) + ", " + ByteSize.format(highBytes));
    }
  }

  /** A range from {@code low} to {@code high} that expects their midpoint. */
  public static SizeRange between(long low, long high) {
    return new SizeRange(low, low + (high - low) / 2, high);
  }

  /** A size known exactly. */
  public static SizeRange exactly(long bytes) {
    return new SizeRange(bytes, bytes, bytes);
  }

  /** Returns the value of this range that {@code estimate} names. */
  public long bytes(Estimate estimate) {
    switch (estimate) {
      case LOW:
        return lowBytes;
      case HIGH:
        return highBytes;
      default:
        return expectedBytes;
    }
  }

  @Override
  public String toString() {
    return lowBytes == highBytes
        ? ByteSize.format(lowBytes)
        : ByteSize.format(lowBytes) + "–" + ByteSize.format(highBytes);
  }
}
