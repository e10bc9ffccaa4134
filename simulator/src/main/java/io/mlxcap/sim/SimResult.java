package io.mlxcap.sim;

import io.mlxcap.model.SizeRange;
import java.util.List;
import java.util.Map;

/**
 * What one simulation pass found. Times in nanoseconds of trace time, sizes in bytes.
 *
 * @param estimate which value of each model's size range this pass used
 * @param peakModels the models loading or resident when RSS first reached its peak, in table order
 * @param endNanos when the last request finished: the end of the window means are taken over
 * @param meanRssBytes time-weighted mean RSS over [0, end]
 * @param aboveLineNanos how long RSS was above {@code ramLineBytes}
 * @param rejectedLoadFailed requests whose model's load failed (under a policy that loads what does not fit)
 * @param loadsFailed loads that failed, for the same reason
 */
public record SimResult(
    SizeRange.Estimate estimate,
    long requests,
    long served,
    long rejectedQueueFull,
    long rejectedTooLarge,
    long rejectedLoadFailed,
    long loadsFailed,
    long rejectedOverContext,
    long hits,
    long coldStarts,
    long peakRssBytes,
    long peakAtNanos,
    List<String> peakModels,
    double meanRssBytes,
    long ramLineBytes,
    long aboveLineNanos,
    long endNanos,
    Map<String, Long> loads,
    Map<String, Long> evictions,
    long preloadsSkipped,
    LogHistogram coldWait,
    LogHistogram latency,
    LogHistogram queueWait,
    List<ModelResult> models,
    List<MemoryTimeline.Point> timeline) {

  /** What one model saw. */
  public record ModelResult(String model, long requests, long hits, long coldStarts, long loads, long evictions,
      LogHistogram coldWait) {}

  /** Loads of every cause. */
  public long totalLoads() {
    return loads.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Requests refused for any reason: queue full, model larger than the budget, its load failed, past the model's context. */
  public long rejected() {
    return rejectedQueueFull + rejectedTooLarge + rejectedLoadFailed + rejectedOverContext;
  }

  /** Evictions of every reason. */
  public long totalEvictions() {
    return evictions.values().stream().mapToLong(Long::longValue).sum();
  }
}
