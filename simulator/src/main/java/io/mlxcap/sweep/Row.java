package io.mlxcap.sweep;

import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.LogHistogram;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sim.SimResult;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * What one configuration of a sweep predicts: every figure {@code simulate} reports, without the
 * timelines and histograms (a sweep keeps thousands of rows). Times in nanoseconds, sizes in bytes.
 *
 * @param peakModels the models loading or resident at the high pass's peak
 * @param budgetBytes the RAM the recommendation must stay under on this configuration's host
 */
public record Row(
    int index,
    Configuration configuration,
    Settings settings,
    HostProfile host,
    long ramLineBytes,
    long budgetBytes,
    Bounds peak,
    Bounds mean,
    Bounds aboveLine,
    long requests,
    long served,
    long rejectedQueueFull,
    long rejectedTooLarge,
    long rejectedLoadFailed,
    long loadsFailed,
    long rejectedOverContext,
    long hits,
    long coldStarts,
    Map<String, Long> loads,
    Map<String, Long> evictions,
    long coldP50,
    long coldP95,
    long coldP99,
    long latencyP50,
    long latencyP95,
    long latencyP99,
    long spanNanos,
    List<String> peakModels) {

  /** A figure at the low, expected and high end of the model sizes. */
  public record Bounds(long low, long expected, long high) {
    static Bounds of(Prediction p, ToLongFunction<SimResult> f) {
      return new Bounds(f.applyAsLong(p.low()), f.applyAsLong(p.expected()), f.applyAsLong(p.high()));
    }
  }

  /** Summarizes {@code p}; latencies come from the expected pass. */
  static Row of(int index, Configuration configuration, Prediction p, long ramLine, long budget) {
    SimResult e = p.expected();
    return new Row(index, configuration, p.settings(), p.host(), ramLine, budget,
        Bounds.of(p, SimResult::peakRssBytes), Bounds.of(p, r -> Math.round(r.meanRssBytes())),
        Bounds.of(p, SimResult::aboveLineNanos), e.requests(), e.served(), e.rejectedQueueFull(),
        e.rejectedTooLarge(), e.rejectedLoadFailed(), e.loadsFailed(), e.rejectedOverContext(), e.hits(), e.coldStarts(), e.loads(), e.evictions(),
        q(e.coldWait(), 0.5), q(e.coldWait(), 0.95), q(e.coldWait(), 0.99),
        q(e.latency(), 0.5), q(e.latency(), 0.95), q(e.latency(), 0.99), e.endNanos(), p.high().peakModels());
  }

  private static long q(LogHistogram h, double quantile) {
    return h.count() == 0 ? 0 : h.quantile(quantile);
  }

  /** Loads of every cause. */
  public long totalLoads() {
    return loads.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Requests refused: queue full, model larger than the byte budget, its load failed, or past the model's context. */
  public long refused() {
    return rejectedQueueFull + rejectedTooLarge + rejectedLoadFailed + rejectedOverContext;
  }

  /** Hours the trace spans (at least a second, so rates stay finite). */
  public double hours() {
    return Math.max(spanNanos, 1_000_000_000L) / 3.6e12;
  }

  public double coldStartsPerHour() {
    return coldStarts / hours();
  }

  public double loadsPerHour() {
    return totalLoads() / hours();
  }

  /** Whether the high bound of the peak stays within the budget. */
  public boolean fitsBudget() {
    return peak.high() <= budgetBytes;
  }
}
