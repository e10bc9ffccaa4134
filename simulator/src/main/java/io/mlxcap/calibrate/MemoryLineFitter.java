package io.mlxcap.calibrate;

import io.mlxcap.ByteSize;
import io.mlxcap.calibrate.Profile.Figure;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.regression.SimpleRegression;

/** The memory terms: the runtime's base, what each load leaves behind, and what a load holds while it runs. */
final class MemoryLineFitter implements TermFitter {
  /**
   * RSS − resident bytes = base + growth × loads so far, least squares over the samples taken while
   * no load ran; then the transient: what samples taken during a load held beyond that line and the
   * loading model's own bytes, as a fraction of those bytes (per load its most, then the median).
   */
  @Override
  public void fit(Recording recording, Fitting profile) {
    double[] line = fit(recording.memory, recording.during, profile.host, profile.quality);
    profile.base = line[0];
    profile.growth = line[1];
  }

  private static double[] fit(List<double[]> memory, List<Recording.Serving> during, Map<String, Figure> host,
      List<String> quality) {
    SimpleRegression r = new SimpleRegression(true);
    int quiet = 0;
    long idle = java.util.stream.IntStream.range(0, memory.size()).filter(i -> memory.get(i)[4] == 0 && during.get(i) == null).count();
    for (int i = 0; i < memory.size(); i++) {
      double[] m = memory.get(i);
      // Samples with no load and, when there are enough of them, no request being served: the process at rest.
      if (m[4] == 0 && (idle < 3 || during.get(i) == null)) {
        r.addData(m[1], m[0]);
        quiet++;
      }
    }
    double base;
    double growth;
    if (quiet >= 3 && r.getSlope() >= 0 && distinct(memory)) {
      base = r.getIntercept();
      growth = r.getSlope();
    } else {
      base = memory.stream().filter(m -> m[4] == 0).mapToDouble(m -> m[0]).min().orElse(memory.get(0)[0]);
      growth = 0;
    }
    double maxResidual = 0;
    for (double[] m : memory) {
      if (m[4] == 0) {
        maxResidual = Math.max(maxResidual, Math.abs(m[0] - base - growth * m[1]));
      }
    }
    quality.add(String.format(Locale.ROOT, "memory        RSS = %s + resident models + %s per load so far, from %d samples: R² %.3f, max residual %s",
        ByteSize.format(Math.round(base)), ByteSize.format(Math.round(growth)), quiet, quiet >= 3 ? r.getRSquare() : Double.NaN,
        ByteSize.format(Math.round(maxResidual))));
    host.put("runtime_base_bytes", new Figure(Math.round(base), quiet,
        "memory samples: RSS minus the resident models' bytes = base + growth x loads so far (least squares, intercept)"));
    host.put("growth_per_load_bytes", new Figure(Math.round(growth), quiet,
        "memory samples: RSS minus the resident models' bytes = base + growth x loads so far (least squares, slope)"));
    // Per load: the most its samples held beyond the line, over its bytes; the median over loads, so a
    // sample that caught an evicted model not yet closed does not stand for every load.
    Map<Double, Double> peakByLoad = new LinkedHashMap<>();
    int duringLoads = 0;
    for (double[] m : memory) {
      if (m[4] > 0) {
        duringLoads++;
        // Beyond the line and beyond the model's own bytes (the simulator counts those from the load's start).
        peakByLoad.merge(m[5], (m[0] - base - growth * m[1] - m[4]) / m[4], Math::max);
      }
    }
    double transientFraction = peakByLoad.isEmpty() ? 0 : Math.max(0, Stats.medianOf(new ArrayList<>(peakByLoad.values())));
    transientFraction = Math.max(0, transientFraction);
    host.put("load_transient", new Figure(Math.round(transientFraction * 1e4) / 1e4, duringLoads,
        duringLoads == 0 ? "no memory sample was taken while a load ran: 0 assumed"
            : "memory samples taken while a load ran: per load, the most they held beyond the line above over the bytes"
                + " loading; the median over loads"));
    quality.add(duringLoads == 0 ? "load transient none seen (no sample during a load; sample more often with serve --memory-sample)"
        : String.format(Locale.ROOT, "load transient %.1f %% of the bytes loading (median over %d loads; %d samples taken during loads)",
            transientFraction * 100, peakByLoad.size(), duringLoads));
    return new double[] {base, growth};
  }

  private static boolean distinct(List<double[]> memory) {
    return memory.stream().filter(m -> m[4] == 0).mapToDouble(m -> m[1]).distinct().count() >= 2;
  }
}
