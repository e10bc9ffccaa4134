package io.mlxcap.sim;

/**
 * Counts of non-negative values (nanoseconds) in buckets 1/128 of a power of two wide, so any
 * quantile is known within 0.8 % in fixed memory (64 KB), however many values go in.
 */
public final class LogHistogram {
  private static final int SUB_BITS = 7;
  private static final int SUB = 1 << SUB_BITS;

  private final long[] counts = new long[(64 - SUB_BITS + 1) * SUB];
  private long count;
  private long max;
  private double sum;

  void record(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("negative value " + value);
    }
    counts[index(value)]++;
    count++;
    sum += value;
    if (value > max) {
      max = value;
    }
  }

  void addAll(LogHistogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    count += other.count;
    sum += other.sum;
    max = Math.max(max, other.max);
  }

  static int index(long value) {
    if (value < SUB) {
      return (int) value;
    }
    int exponent = 63 - Long.numberOfLeadingZeros(value);
    int shift = exponent - SUB_BITS;
    return ((shift + 1) << SUB_BITS) + (int) ((value >>> shift) - SUB);
  }

  /** The largest value that falls in bucket {@code index}. */
  static long upperBound(int index) {
    if (index < SUB) {
      return index;
    }
    int shift = (index >>> SUB_BITS) - 1;
    long sub = index & (SUB - 1);
    return ((SUB + sub + 1) << shift) - 1;
  }

  /** How many values were recorded. */
  public long count() {
    return count;
  }

  /** The largest value recorded; 0 when empty. */
  public long max() {
    return max;
  }

  /** The mean of the values; NaN when empty. */
  public double mean() {
    return count == 0 ? Double.NaN : sum / count;
  }

  /**
   * The exact value at quantile {@code q} of {@code sorted} by the rule {@link #quantile} approximates:
   * the smallest value with at least q of the values at or below it; 0 when empty.
   */
  public static long nearestRank(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.max(1, Math.ceil(q * sorted.length));
    return sorted[Math.min(sorted.length, rank) - 1];
  }

  /**
   * The value at quantile {@code q} (0..1]: the smallest bucket bound with at least q of the values at
   * or below it, never above the maximum; 0 when empty.
   */
  public long quantile(double q) {
    if (count == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * count));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(upperBound(i), max);
      }
    }
    return max;
  }
}
