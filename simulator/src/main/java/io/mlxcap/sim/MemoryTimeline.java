package io.mlxcap.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The highest RSS in each time bin, for charts, in fixed memory: when the bins run out, neighbours
 * merge and bins double in width. The exact peak is kept apart by the simulation.
 */
public final class MemoryTimeline {
  static final int BINS = 1024;

  private long width = 1_000_000_000L;
  private final long[] high = new long[BINS];
  private int lastBin;
  /** Where the last bin ends: a change before it only raises that bin's high (no division). */
  private long lastBinEnd = width;
  private long level;

  /** RSS is {@code rss} from {@code time} on. */
  void record(long time, long rss) {
    if (time < lastBinEnd) {
      high[lastBin] = Math.max(high[lastBin], rss); // the level before it is already in this bin's high
      level = rss;
      return;
    }
    int bin = binOf(time);
    for (int i = lastBin; i <= bin; i++) {
      high[i] = Math.max(high[i], level);
    }
    high[bin] = Math.max(high[bin], rss);
    lastBin = bin;
    lastBinEnd = (bin + 1) * width;
    level = rss;
  }

  private int binOf(long time) {
    while (time / width >= BINS) {
      for (int i = 0; i < BINS / 2; i++) {
        high[i] = Math.max(high[2 * i], high[2 * i + 1]);
      }
      java.util.Arrays.fill(high, BINS / 2, BINS, 0);
      lastBin /= 2;
      width *= 2;
    }
    return (int) (time / width);
  }

  /** A point of the series: a bin's start in nanoseconds and the highest RSS in it. */
  public record Point(long timeNanos, long rssBytes) {}

  /** The series up to {@code end}. */
  List<Point> points(long end) {
    record(end, level);
    List<Point> points = new ArrayList<>(lastBin + 1);
    for (int i = 0; i <= lastBin; i++) {
      points.add(new Point(i * width, high[i]));
    }
    return points;
  }
}
