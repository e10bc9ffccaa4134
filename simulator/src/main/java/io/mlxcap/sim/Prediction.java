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
    List<SimResult> results = new ArrayList<>();
    for (Function<RequestSource, SimResult> pass : passes(settings, table, host, ramLine)) {
      try (RequestSource requests = source.get()) {
        results.add(pass.apply(requests));
      }
    }
    return of(settings, table, host, results);
  }

  /** A prediction over a trace file, and how many of its requests took the service time a recording observed. */
  public record Read(Prediction prediction, int recordedServiceTimes) {}

  /**
   * Runs the passes over {@code trace} read once (see {@link ReadAhead}): the file is parsed on one
   * thread while the passes run, each on a thread of its own.
   */
  public static Read read(Settings settings, ModelTable table, HostProfile host, long ramLine, Path trace,
      TraceReader.Mode mode) {
    ReadAhead.Replayed<SimResult> replayed = ReadAhead.replay(trace, mode, passes(settings, table, host, ramLine));
    return new Read(of(settings, table, host, replayed.results()), replayed.recordedServiceTimes());
  }

  /** Runs the passes over a trace held in memory, read once however many predictions use it. */
  public static Prediction of(Settings settings, ModelTable table, HostProfile host, long ramLine,
      RequestSource.InMemory trace) {
    return of(settings, table, host, ramLine, trace::replay);
  }

  /** The passes a prediction needs: the expected sizes alone when they are exact, else low, expected and high. */
  private static List<Function<RequestSource, SimResult>> passes(Settings settings, ModelTable table, HostProfile host,
      long ramLine) {
    List<Function<RequestSource, SimResult>> passes = new ArrayList<>();
    for (SizeRange.Estimate estimate : exactSizes(table) ? List.of(SizeRange.Estimate.EXPECTED)
        : List.of(SizeRange.Estimate.values())) {
      passes.add(source -> new Simulation(settings, table, host, estimate, ramLine).run(source));
    }
    return passes;
  }

  /** The prediction of the passes' results: one stands for all three. */
  private static Prediction of(Settings settings, ModelTable table, HostProfile host, List<SimResult> r) {
    return r.size() == 1
        ? new Prediction(settings, table, host, r.get(0), r.get(0), r.get(0))
        : new Prediction(settings, table, host, r.get(0), r.get(1), r.get(2));
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
