package io.mlxcap.calibrate;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.calibrate.Profile.Figure;
import io.mlxcap.calibrate.Profile.ModelFigures;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.sim.LoadSpread;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;
import org.apache.commons.math3.stat.regression.SimpleRegression;

/**
 * Fits a {@link Profile} from what a server recorded: its {@code load} lines (load time against
 * bytes), its {@code memory} samples against the models resident when each was taken (the runtime's
 * base, what each load leaves behind, what a load holds while it runs), and its served requests
 * (each model's prefill and decode rates). Pure: a trace in, a profile and the fits' quality out.
 */
public final class Calibration {
  /** The profile, and lines for people saying how good each fit is. */
  public record Result(Profile profile, List<String> quality) {}

  private Calibration() {}

  /**
   * Fits {@code trace}.
   *
   * @throws InvalidInputException when the trace has nothing to fit (no loads or no memory samples)
   */
  public static Result fit(Path trace) {
    return fit(List.of(trace));
  }

  /**
   * Fits the recordings {@code traces} together, each a process of its own (its own warm-up, its own
   * loads so far): one profile from more loads, samples and requests than one run has. The host's
   * RAM is the first recording's.
   *
   * @throws InvalidInputException when one has nothing to fit (no loads or no memory samples)
   */
  public static Result fit(List<Path> traces) {
    TraceHeader header = null;
    // bytes, duration ns, bytes evicted to make room for it, its place among its process's loads
    List<long[]> loads = new ArrayList<>();
    List<String> loadModels = new ArrayList<>();
    Map<String, List<Long>> bytesByModel = new LinkedHashMap<>();
    List<double[]> memory = new ArrayList<>(); // rss - resident, loads done, rss, resident, loading expected bytes
    List<Serving> during = new ArrayList<>(); // beside each memory sample: the request being served then
    List<Long> other = new ArrayList<>();
    Map<String, List<double[]>> service = new LinkedHashMap<>(); // model -> (prompt, output, seconds)
    for (Path trace : traces) {
      Map<String, long[]> requests = new HashMap<>(); // id -> prompt tokens
      Map<String, String> requestModel = new HashMap<>();
      List<Serving> servings = new ArrayList<>();
      int firstSample = memory.size();
      int firstLoad = loads.size();
      try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
        TraceHeader h = reader.header();
        header = header == null ? h : header;
        ModelTable table = h.models().orElseThrow(() -> new InvalidInputException(trace
            + " has no model table in its header: calibrate needs a recording made by mlxcap serve"));
        Map<String, Long> resident = new HashMap<>();
        Map<String, Long> loading = new HashMap<>();
        int loadsDone = 0;
        int loadsStarted = 0;
        // Evictions written at a load's start (the same decision) made room for it; the server frees them while it loads.
        long evictedAt = -1;
        long evictedBytes = 0;
        Map<String, Long> freedForLoad = new HashMap<>();
        for (TraceEvent e = reader.next(); e != null; e = reader.next()) {
          if (e instanceof TraceEvent.LoadStart s) {
            loading.put(s.model(), Math.max(0, s.expectedBytes()));
            loadsStarted++;
            freedForLoad.put(s.model(), s.timeNanos() == evictedAt ? evictedBytes : 0);
            evictedBytes = 0;
          } else if (e instanceof TraceEvent.Load l) {
            loading.remove(l.model());
            resident.put(l.model(), l.bytes());
            loadsDone++;
            Long freed = freedForLoad.remove(l.model());
            loads.add(new long[] {l.bytes(), l.durationNanos(), freed == null ? 0 : freed, loadsDone - 1});
            loadModels.add(l.model());
            bytesByModel.computeIfAbsent(l.model(), m -> new ArrayList<>()).add(l.bytes());
          } else if (e instanceof TraceEvent.LoadFailed f) {
            loading.remove(f.model());
          } else if (e instanceof TraceEvent.Evict v) {
            resident.remove(v.model());
            if (v.timeNanos() != evictedAt) {
              evictedAt = v.timeNanos();
              evictedBytes = 0;
            }
            evictedBytes += v.bytes();
          } else if (e instanceof TraceEvent.Memory m && m.rssBytes() > 0) {
            long res = resident.values().stream().mapToLong(Long::longValue).sum();
            long inFlight = loading.values().stream().mapToLong(Long::longValue).sum();
            memory.add(new double[] {m.rssBytes() - res, loadsDone, m.rssBytes(), res, inFlight, loadsStarted, m.timeNanos()});
            if (m.hostUsedBytes() > 0) {
              other.add(Math.max(0, m.hostUsedBytes() - m.rssBytes()));
            }
          } else if (e instanceof TraceEvent.Request r) {
            requests.put(r.id(), new long[] {r.promptTokens()});
            table.find(r.model()).map(ModelSpec::name).ifPresent(name -> requestModel.put(r.id(), name));
          } else if (e instanceof TraceEvent.RequestDone d && d.status() == TraceEvent.Status.OK
              && d.serviceNanos() != TraceEvent.UNKNOWN && d.outputTokens() != TraceEvent.UNKNOWN) {
            long[] r = requests.remove(d.id());
            String model = requestModel.remove(d.id());
            if (r != null && model != null && r[0] != TraceEvent.UNKNOWN) {
              service.computeIfAbsent(model, m -> new ArrayList<>()).add(new double[] {r[0], d.outputTokens(), d.serviceNanos() / 1e9});
              servings.add(new Serving(d.timeNanos() - d.serviceNanos(), d.timeNanos(), model, r[0] + d.outputTokens()));
            }
          }
        }
      }
      if (loads.size() == firstLoad || memory.size() == firstSample) {
        throw new InvalidInputException(trace + " has " + (loads.size() - firstLoad) + " load lines and " + (memory.size() - firstSample)
            + " memory samples; calibrate needs both (a recording of mlxcap serve that loaded models)");
      }
      for (double[] m : memory.subList(firstSample, memory.size())) {
        // Which request was generating when the sample was taken (one worker: at most one, usually).
        Serving in = null;
        int count = 0;
        for (Serving sv : servings) {
          if (sv.start() < m[6] && m[6] < sv.end()) {
            in = sv;
            count++;
          }
        }
        during.add(count == 1 ? in : count == 0 ? null : Serving.MANY);
      }
    }
    List<String> quality = new ArrayList<>();
    Map<String, Figure> host = new LinkedHashMap<>();
    host.put("ram_bytes", new Figure(header.hostRamBytes(), header.hostRamBytes() > 0 ? 1 : 0, "the trace header's host RAM"));
    if (!other.isEmpty()) {
      host.put("other_bytes", new Figure(median(other), other.size(), "memory samples: host RAM in use minus the server's RSS (median)"));
    }
    LoadSpread spread = fitLoads(loads, loadModels, host, quality);
    double[] line = fitMemory(memory, during, host, quality);
    Map<String, List<Double>> perToken = new LinkedHashMap<>();
    for (int i = 0; i < memory.size(); i++) {
      double[] m = memory.get(i);
      Serving s = during.get(i);
      if (m[4] == 0 && s != null && s != Serving.MANY && s.tokens() > 0) {
        perToken.computeIfAbsent(s.model(), k -> new ArrayList<>()).add(Math.max(0, (m[0] - line[0] - line[1] * m[1]) / s.tokens()));
      }
    }
    Map<String, ModelFigures> models = new LinkedHashMap<>();
    bytesByModel.forEach((model, bytes) -> models.put(model, new ModelFigures(
        new Figure(median(bytes), bytes.size(), "load lines: the bytes the server reported (median)"), null, null, null)));
    fitService(service, models, quality);
    perToken.forEach((model, values) -> {
      ModelFigures before = models.getOrDefault(model, new ModelFigures(null, null, null, null));
      double kv = Math.round(medianOf(values));
      models.put(model, new ModelFigures(before.bytes(), before.prefillTokensPerSecond(), before.decodeTokensPerSecond(),
          new Figure(kv, values.size(), "memory samples taken while one request of this model was served: what they held beyond"
              + " the line, over its prompt + output tokens (median)")));
      quality.add(String.format(Locale.ROOT, "working mem.  %-30s %s per token of context, from %d samples", model,
          ByteSize.format(Math.round(kv)), values.size()));
    });
    return new Result(Profile.of(host, spread, models, names(traces)), quality);
  }

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
  private static LoadSpread fitLoads(List<long[]> all, List<String> allModels, Map<String, Figure> host,
      List<String> quality) {
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
      line = theilSen(bytes, adjusted);
      if (line == null || !fitDelay) {
        break;
      }
      double[] off = new double[n];
      for (int i = 0; i < n; i++) {
        off[i] = seconds[i] - (line[0] + line[1] * bytes[i]);
      }
      double[] d = theilSen(freed, off);
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
      warmup.add(round6(medianOf(beyond)));
    }
    // Each model's usual distance from the line, when it loaded often enough to have one.
    Map<String, List<Double>> byModel = new java.util.TreeMap<>();
    for (int i : later) {
      byModel.computeIfAbsent(allModels.get(i), m -> new ArrayList<>()).add(all.get(i)[1] / 1e9 - expected[i]);
    }
    Map<String, Double> offsets = new java.util.TreeMap<>();
    byModel.forEach((model, off) -> {
      if (off.size() >= 3) {
        offsets.put(model, round6(medianOf(off)));
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
    double median = ratios.isEmpty() ? 1 : medianOf(ratios);
    double middle = median > 0 ? median : 1;
    List<Double> relative = new ArrayList<>();
    // A model loaded often enough has its own tail: the large models' loads stray less, as fractions, than the small ones'.
    Map<String, List<Double>> own = new java.util.TreeMap<>();
    for (int k = 0; k < ratios.size(); k++) {
      double deviation = round6(ratios.get(k) / middle - 1);
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

  /** The recordings' names as one string: "a.jsonl" or "a.jsonl, b.jsonl". */
  private static String names(List<Path> traces) {
    return String.join(", ", traces.stream().map(Path::toString).toList());
  }

  private static double round6(double value) {
    return Math.round(value * 1e6) / 1e6;
  }

  /**
   * Theil–Sen: the median of the slopes between every two points with different x, then the median
   * of y − slope × x; {intercept, slope}, or null when no two x differ.
   */
  private static double[] theilSen(double[] x, double[] y) {
    List<Double> slopes = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      for (int j = i + 1; j < x.length; j++) {
        if (x[i] != x[j]) {
          slopes.add((y[j] - y[i]) / (x[j] - x[i]));
        }
      }
    }
    if (slopes.isEmpty()) {
      return null;
    }
    double slope = medianOf(slopes);
    List<Double> intercepts = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      intercepts.add(y[i] - slope * x[i]);
    }
    return new double[] {medianOf(intercepts), slope};
  }

  private static double medianOf(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  /**
   * RSS − resident bytes = base + growth × loads so far, least squares over the samples taken while
   * no load ran; then the transient: what samples taken during a load held beyond that line and the
   * loading model's own bytes, as a fraction of those bytes (per load its most, then the median).
   */
  /** A request being served: from {@code start} to {@code end}, {@code tokens} of context. */
  private record Serving(double start, double end, String model, double tokens) {
    static final Serving MANY = new Serving(0, 0, "", 0);
  }

  private static double[] fitMemory(List<double[]> memory, List<Serving> during, Map<String, Figure> host, List<String> quality) {
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
    double transientFraction = peakByLoad.isEmpty() ? 0 : Math.max(0, medianOf(new ArrayList<>(peakByLoad.values())));
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

  /** service seconds = prompt / prefill + output / decode per model, least squares without intercept. */
  private static void fitService(Map<String, List<double[]>> service, Map<String, ModelFigures> models, List<String> quality) {
    service.forEach((model, rows) -> {
      double prefill = Double.NaN;
      double decode = Double.NaN;
      if (rows.size() >= 3) {
        double[] y = new double[rows.size()];
        double[][] x = new double[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
          y[i] = rows.get(i)[2];
          x[i] = new double[] {rows.get(i)[0], rows.get(i)[1]};
        }
        try {
          OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
          ols.setNoIntercept(true);
          ols.newSampleData(y, x);
          double[] b = ols.estimateRegressionParameters();
          if (b[0] > 0 && b[1] > 0) {
            prefill = 1 / b[0];
            decode = 1 / b[1];
          }
        } catch (RuntimeException singular) {
          // prompts or outputs all alike: fall back below
        }
      }
      String how = "served requests: service = prompt / prefill + output / decode (least squares, no intercept)";
      if (Double.isNaN(decode)) {
        double seconds = rows.stream().mapToDouble(r -> r[2]).sum();
        double tokens = rows.stream().mapToDouble(r -> r[0] + r[1]).sum();
        prefill = decode = tokens / Math.max(seconds, 1e-9);
        how = "served requests: (prompt + output tokens) / service time, one rate (too few or too alike for two)";
      }
      ModelFigures before = models.getOrDefault(model, new ModelFigures(null, null, null, null));
      models.put(model, new ModelFigures(before.bytes(), new Figure(round(prefill), rows.size(), how),
          new Figure(round(decode), rows.size(), how), before.kvBytesPerToken()));
      quality.add(String.format(Locale.ROOT, "service       %-30s prefill %.0f, decode %.0f tokens/s from %d requests", model, prefill,
          decode, rows.size()));
    });
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static double median(List<Long> values) {
    return Math.round(medianOf(values.stream().map(Long::doubleValue).toList()));
  }

}
