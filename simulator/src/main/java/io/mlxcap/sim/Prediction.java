package io.mlxcap.sim;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
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

  /** A prediction over a trace file, and how many of its requests took the service time a recording observed. */
  public record Read(Prediction prediction, int recordedServiceTimes) {}

  /**
   * Runs the passes over {@code trace} read once (see {@link ReadAhead}): the file is parsed on one
   * thread while the passes run, each on a thread of its own.
   */
  public static Read read(Settings settings, ModelTable table, HostProfile host, long ramLine, Path trace,
      TraceReader.Mode mode) {
    List<Function<RequestSource, SimResult>> passes = new ArrayList<>();
    for (SizeRange.Estimate estimate : exactSizes(table) ? List.of(SizeRange.Estimate.EXPECTED)
        : List.of(SizeRange.Estimate.values())) {
      passes.add(source -> new Simulation(settings, table, host, estimate, ramLine).run(source));
    }
    ReadAhead.Replayed<SimResult> replayed = ReadAhead.replay(trace, mode, passes);
    List<SimResult> r = replayed.results();
    Prediction prediction = r.size() == 1
        ? new Prediction(settings, table, host, r.get(0), r.get(0), r.get(0))
        : new Prediction(settings, table, host, r.get(0), r.get(1), r.get(2));
    return new Read(prediction, replayed.recordedServiceTimes());
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
