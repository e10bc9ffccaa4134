package io.mlxcap.calibrate;

import io.mlxcap.ByteSize;
import io.mlxcap.calibrate.Profile.Figure;
import io.mlxcap.sim.LoadSpread;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The load-time term: the line of load time against bytes and bytes evicted, and the spread around it. */
final class LoadTimeFitter implements TermFitter {
  /**
   * How many of a process's first loads are its warm-up: the engine starting and the JIT compiling
   * the load path. Measured over 16 recordings of the loop (scripts/close-the-loop.sh) on this
   * project's machine: the first load took 126–301 ms longer than the line in every one, the second
   * 22–492 ms (median ~140 ms), and from the third on the median load sits on the line.
   */
  static final int WARMUP_LOADS = 2;

  /** Later loads a model needs for its own deviations in place of the pooled ones. */
  static final int OWN_SPREAD_LOADS = 30;

  /**
   * load duration = overhead + bytes / bandwidth + evicted bytes × delay over the load lines after the
   * warm-up. The line is fitted by Theil–Sen (the median of the slopes between every two loads, then
   * the median intercept): a load slowed by a busy disk or a collector pause does not pull it, as it
   * pulls least squares. The delay is what a load loses while the server frees the models evicted to
   * make room for it (measured: 0.04–0.11 ms per MB on this project's machine): the median slope of the
   * loads' distance from the line against those bytes, fitted in turn with the line (three rounds).
   * Then the spread around it ({@link LoadSpread}): the warm-up loads' distance from the
   * line, each model's median distance, and every other load's time over its usual one.
   */
  @Override
  public void fit(Recording recording, Fitting profile) {
    profile.spread = fit(recording.loads, recording.loadModels, profile.host, profile.quality);
  }

  private static LoadSpread fit(List<long[]> all, List<String> allModels, Map<String, Figure> host, List<String> quality) {
    // The warm-up is each process's first loads (their place among its loads), kept apart when at
    // least 3 loads are left for the line.
    int warm = all.stream().filter(l -> l[3] >= WARMUP_LOADS).count() >= 3 ? WARMUP_LOADS : 0;
    List<Integer> later = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i)[3] >= warm) {
        later.add(i);
      }
    }
    List<long[]> loads = later.stream().map(all::get).toList();
    int n = loads.size();
    double[] bytes = new double[n];
    double[] seconds = new double[n];
    double[] freed = new double[n];
    for (int i = 0; i < n; i++) {
      bytes[i] = loads.get(i)[0];
      seconds[i] = loads.get(i)[1] / 1e9;
      freed[i] = loads.get(i)[2];
    }
    long withEvictions = java.util.Arrays.stream(freed).filter(f -> f > 0).count();
    boolean fitDelay = withEvictions >= 3 && java.util.Arrays.stream(freed).distinct().count() >= 2;
    double delay = 0;
    double overhead;
    double bandwidth;
    double[] line = null;
    for (int round = 0; round < (fitDelay ? 3 : 1); round++) {
      double[] adjusted = new double[n];
      for (int i = 0; i < n; i++) {
        adjusted[i] = seconds[i] - delay * freed[i];
      }
      line = Stats.theilSen(bytes, adjusted);
      if (line == null || !fitDelay) {
        break;
      }
      double[] off = new double[n];
      for (int i = 0; i < n; i++) {
        off[i] = seconds[i] - (line[0] + line[1] * bytes[i]);
      }
      double[] d = Stats.theilSen(freed, off);
      delay = d == null ? 0 : Math.max(0, d[1]);
    }
    if (n >= 3 && line != null && line[1] > 0) {
      overhead = Math.max(0, line[0]);
      bandwidth = 1 / line[1];
      double mean = java.util.Arrays.stream(seconds).average().orElse(0);
      double total = 0;
      double residualSquares = 0;
      double maxResidual = 0;
      double sumResidual = 0;
      for (int i = 0; i < n; i++) {
        double residual = seconds[i] - (overhead + bytes[i] / bandwidth + delay * freed[i]);
        residualSquares += residual * residual;
        total += Math.pow(seconds[i] - mean, 2);
        maxResidual = Math.max(maxResidual, Math.abs(residual));
        sumResidual += Math.abs(residual);
      }
      double r2 = total == 0 ? 1 : 1 - residualSquares / total;
      quality.add(String.format(Locale.ROOT, "load time     %.1f ms + bytes / %s/s + %.1f ms per GB evicted for it, from %d loads"
          + " (%d after evictions; Theil-Sen%s): R² %.3f, residuals mean %.1f ms, max %.1f ms", overhead * 1e3,
          ByteSize.format(Math.round(bandwidth)), delay * 1e12, n, withEvictions, warm > 0 ? "; after " + warm + " warm-up loads" : "",
          r2, sumResidual / n * 1e3, maxResidual * 1e3));
      host.put("load_r_squared", new Figure(Math.round(r2 * 1e4) / 1e4, n, "the load-time line's R²"));
    } else {
      overhead = 0;
      delay = 0;
      bandwidth = java.util.Arrays.stream(bytes).sum() / Math.max(java.util.Arrays.stream(seconds).sum(), 1e-9);
      quality.add(String.format(Locale.ROOT, "load time     bytes / %s/s from %d loads (too few or too alike for a line: no overhead fitted)",
          ByteSize.format(Math.round(bandwidth)), n));
    }
    String how = "load lines: duration = overhead + bytes / bandwidth + evicted bytes x delay (Theil-Sen: median pairwise"
        + " slope, median intercept; the delay fitted in turn on what the line leaves)";
    host.put("load_overhead_s", new Figure(Math.round(overhead * 1e6) / 1e6, n, how));
    host.put("load_bytes_per_s", new Figure(Math.round(bandwidth), n, how));
    host.put("load_s_per_evicted_byte", new Figure(delay, fitDelay ? (int) withEvictions : 0,
        "loads that started right after evictions: what the line leaves of their time against the bytes evicted (Theil-Sen slope)"));
    double[] expected = new double[all.size()];
    for (int i = 0; i < all.size(); i++) {
      expected[i] = overhead + all.get(i)[0] / bandwidth + delay * all.get(i)[2];
    }
    // Each place of the warm-up: how much longer than the line it took (the median over processes).
    List<Double> warmup = new ArrayList<>();
    for (int place = 0; place < warm; place++) {
      List<Double> beyond = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        if (all.get(i)[3] == place) {
          beyond.add(all.get(i)[1] / 1e9 - expected[i]);
        }
      }
      warmup.add(Stats.round6(Stats.medianOf(beyond)));
    }
    // Each model's usual distance from the line, when it loaded often enough to have one.
    Map<String, List<Double>> byModel = new java.util.TreeMap<>();
    for (int i : later) {
      byModel.computeIfAbsent(allModels.get(i), m -> new ArrayList<>()).add(all.get(i)[1] / 1e9 - expected[i]);
    }
    Map<String, Double> offsets = new java.util.TreeMap<>();
    byModel.forEach((model, off) -> {
      if (off.size() >= 3) {
        offsets.put(model, Stats.round6(Stats.medianOf(off)));
      }
    });
    // Every later load's time over its usual one (its line plus its model's offset; the eviction delay
    // taken off, as the simulator adds it apart), centred on the median.
    List<Double> ratios = new ArrayList<>();
    List<String> ratioModels = new ArrayList<>();
    for (int i : later) {
      double evicting = delay * all.get(i)[2];
      double usual = expected[i] - evicting + offsets.getOrDefault(allModels.get(i), 0.0);
      if (usual > 0) {
        // Not below 0: with few loads the delay fitted per evicted byte can exceed what a load took.
        ratios.add(Math.max(0, all.get(i)[1] / 1e9 - evicting) / usual);
        ratioModels.add(allModels.get(i));
      }
    }
    double median = ratios.isEmpty() ? 1 : Stats.medianOf(ratios);
    double middle = median > 0 ? median : 1;
    List<Double> relative = new ArrayList<>();
    // A model loaded often enough has its own tail: the large models' loads stray less, as fractions, than the small ones'.
    Map<String, List<Double>> own = new java.util.TreeMap<>();
    for (int k = 0; k < ratios.size(); k++) {
      double deviation = Stats.round6(ratios.get(k) / middle - 1);
      relative.add(deviation);
      own.computeIfAbsent(ratioModels.get(k), m -> new ArrayList<>()).add(deviation);
    }
    relative.sort(null);
    own.values().removeIf(v -> v.size() < OWN_SPREAD_LOADS);
    if (!relative.isEmpty()) {
      quality.add(String.format(Locale.ROOT, "load spread   %+.0f %% to %+.0f %% off their usual time, from %d loads%s%s",
          relative.get(0) * 100, relative.get(relative.size() - 1) * 100, relative.size(),
          warmup.isEmpty() ? "" : "; the first " + warm + " " + warmup.stream().map(w -> String.format(Locale.ROOT, "%+.0f", w * 1e3))
              .collect(java.util.stream.Collectors.joining(" and ")) + " ms (warm-up)",
          offsets.isEmpty() ? "" : "; usual offsets " + offsets.entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %+.0f ms",
              e.getKey(), e.getValue() * 1e3)).collect(java.util.stream.Collectors.joining(", ")))
          + (own.isEmpty() ? "" : "; their own deviations for " + String.join(", ", own.keySet())));
    }
    return new LoadSpread(warmup, relative, offsets, own);
  }
}
