package io.mlxcap.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * A simulation's memory model and its measures, in virtual time. RSS = runtime base + resident model
 * bytes + the bytes of loads in progress (× 1 + transient) + working memory of requests in service +
 * what the process kept from earlier loads. The simulation tells it what changed and asks it to
 * {@link #note} the RSS after every event; it keeps the exact peak with the models loading or
 * resident then, the time-weighted mean, the time spent above a RAM line, and the chart's timeline.
 */
final class MemoryMeter {
  private final long baseBytes;
  private final long ramLine;
  private final String[] names;
  private long loadingBytes;
  private long kvBytes;
  /** What the process kept from the loads so far beyond the models (HostProfile.growthPerLoadBytes). */
  private long grownBytes;
  private long lastRss;
  private long lastChange;
  private double rssIntegral;
  private long aboveLine;
  private long peak;
  private long peakAt;
  /** Models loading or resident now, by index, and a counter bumped whenever that set changes. */
  private final boolean[] present;
  private long residency;
  private long peakResidency = -1;
  private List<String> peakModels = List.of();
  private final MemoryTimeline timeline = new MemoryTimeline();

  /** A meter for a process of {@code baseBytes} at rest, with models {@code names} by index; at time 0 it holds the base. */
  MemoryMeter(long baseBytes, long ramLine, String[] names) {
    this.baseBytes = baseBytes;
    this.ramLine = ramLine;
    this.names = names;
    this.present = new boolean[names.length];
    lastRss = baseBytes;
    timeline.record(0, lastRss);
    peak = lastRss;
  }

  /** A load of model {@code model} started; it holds {@code footprint} until it is done. */
  void loadStarted(int model, long footprint) {
    loadingBytes += footprint;
    present[model] = true;
    residency++;
  }

  /** A load holding {@code footprint} is done (its model now counts as resident); the process kept {@code grown} more. */
  void loadDone(long footprint, long grown) {
    loadingBytes -= footprint;
    grownBytes += grown;
  }

  /** A load of model {@code model} holding {@code footprint} failed: it holds nothing now. */
  void loadFailed(int model, long footprint) {
    loadingBytes -= footprint;
    present[model] = false;
    residency++;
  }

  /** What the RSS is with {@code residentBytes} of models resident, before the next {@link #note}. */
  long rssWith(long residentBytes) {
    return baseBytes + residentBytes + loadingBytes + kvBytes + grownBytes;
  }

  /** Model {@code model} was evicted. */
  void evicted(int model) {
    present[model] = false;
    residency++;
  }

  /** A request in service holds {@code bytes} of working memory (negative when it ends). */
  void working(long bytes) {
    kvBytes += bytes;
  }

  /** The RSS at the last {@link #note}. */
  long rss() {
    return lastRss;
  }

  /** Accounts for the time since the last change at the RSS that held during it. */
  void advance(long now) {
    long dt = now - lastChange;
    if (dt > 0) {
      rssIntegral += (double) lastRss * dt;
      if (lastRss > ramLine) {
        aboveLine += dt;
      }
      lastChange = now;
    }
  }

  /** The RSS at {@code now}, with {@code residentBytes} of models resident: recorded when it changed. */
  void note(long now, long residentBytes) {
    long rss = baseBytes + residentBytes + loadingBytes + kvBytes + grownBytes;
    if (rss != lastRss) {
      advance(now);
      lastRss = rss;
      timeline.record(now, rss);
      if (rss > peak) {
        peak = rss;
        peakAt = now;
        notePeakModels();
      }
    }
  }

  /** Remembers which models were loading or resident at the peak; a copy only when that set changed. */
  private void notePeakModels() {
    if (peakResidency == residency) {
      return;
    }
    peakResidency = residency;
    List<String> models = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      if (present[i]) {
        models.add(names[i]);
      }
    }
    peakModels = List.copyOf(models);
  }

  long peak() {
    return peak;
  }

  long peakAt() {
    return peakAt;
  }

  List<String> peakModels() {
    return peakModels;
  }

  /** The time-weighted mean RSS over {@code [0, end]}. */
  double mean(long end) {
    return end > 0 ? rssIntegral / end : lastRss;
  }

  long ramLine() {
    return ramLine;
  }

  long aboveLine() {
    return aboveLine;
  }

  List<MemoryTimeline.Point> timeline(long end) {
    return timeline.points(end);
  }
}
