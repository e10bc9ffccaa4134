package io.mlxcap.sim;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import java.util.function.Supplier;

/**
 * A simulation run three times, with every model at the low, expected and high end of its size
 * range: peaks come with bounds; latencies are read from the expected run. When every model of the
 * table has one size (a recorded or inspected table), the three runs would be the same run, so it
 * runs once and stands for all three.
 */
public record Prediction(Settings settings, ModelTable table, HostProfile host, SimResult low, SimResult expected,
    SimResult high) {

  /** Runs the passes; {@code source} gives a fresh pass over the same requests each time. */
  public static Prediction of(Settings settings, ModelTable table, HostProfile host, long ramLine,
      Supplier<RequestSource> source) {
    if (exactSizes(table)) {
      SimResult one = run(settings, table, host, ramLine, source, SizeRange.Estimate.EXPECTED);
      return new Prediction(settings, table, host, one, one, one);
    }
    SimResult[] results = new SimResult[3];
    for (SizeRange.Estimate estimate : SizeRange.Estimate.values()) {
      results[estimate.ordinal()] = run(settings, table, host, ramLine, source, estimate);
    }
    return new Prediction(settings, table, host, results[0], results[1], results[2]);
  }

  /** Runs the passes over a trace held in memory, read once however many predictions use it. */
  public static Prediction of(Settings settings, ModelTable table, HostProfile host, long ramLine,
      RequestSource.InMemory trace) {
    return of(settings, table, host, ramLine, trace::replay);
  }

  private static SimResult run(Settings settings, ModelTable table, HostProfile host, long ramLine,
      Supplier<RequestSource> source, SizeRange.Estimate estimate) {
    try (RequestSource requests = source.get()) {
      return new Simulation(settings, table, host, estimate, ramLine).run(requests);
    }
  }

  /** Whether every model's low, expected and high sizes are equal, so one pass gives all three (overhead is one figure). */
  static boolean exactSizes(ModelTable table) {
    for (ModelSpec m : table.models()) {
      SizeRange r = m.size();
      if (r.lowBytes() != r.expectedBytes() || r.highBytes() != r.expectedBytes()) {
        return false;
      }
    }
    return true;
  }

  /** The RSS line whose crossing time is reported when none is given: the RAM the rest of the host leaves. */
  public static long defaultRamLine(HostProfile host) {
    return host.ramBytes() - host.otherBytes();
  }
}
