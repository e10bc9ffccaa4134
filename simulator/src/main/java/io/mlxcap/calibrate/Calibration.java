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
      List<double[]> served = new ArrayList<>(); // beside servings: each one's service row
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
              // prompt, output, seconds, generations in service beside it on average (itself included), cold
              double[] row = {r[0], d.outputTokens(), d.serviceNanos() / 1e9, 1, d.loadWaitNanos() > COLD_WAIT_NANOS ? 1 : 0};
              service.computeIfAbsent(model, m -> new ArrayList<>()).add(row);
              served.add(row);
              servings.add(new Serving(d.timeNanos() - d.serviceNanos(), d.timeNanos(), model, r[0] + d.outputTokens()));
            }
          }
        }
      }
      concurrency(servings, served);
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
    fitService(service, models, host, quality);
    perToken.forEach((model, values) -> {
      ModelFigures before = models.getOrDefault(model, new ModelFigures(null, null, null, null));
      double kv = Math.round(medianOf(values));
      models.put(model, new ModelFigures(before.bytes(), before.prefillTokensPerSecond(), before.decodeTokensPerSecond(),
          new Figure(kv, values.size(), "memory samples taken while one request of this model was served: what they held beyond"
              + " the line, over its prompt + output tokens (median)"), before.coldServiceExtraSeconds()));
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

  /**
   * Sets each service row's mean number of generations in service during it (itself included): the
   * time-weighted count of the services that overlap it, over its length.
   */
  private static void concurrency(List<Serving> servings, List<double[]> rows) {
    Integer[] order = new Integer[servings.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(i -> servings.get(i).start()));
    for (int a = 0; a < order.length; a++) {
      Serving s = servings.get(order[a]);
      double length = s.end() - s.start();
      if (length <= 0) {
        continue;
      }
      double shared = 0;
      for (int b = 0; b < order.length; b++) {
        Serving t = servings.get(order[b]);
        if (t.start() >= s.end()) {
          break; // sorted by start: none later overlaps
        }
        shared += Math.max(0, Math.min(s.end(), t.end()) - Math.max(s.start(), t.start()));
      }
      rows.get(order[a])[3] = shared / length;
    }
  }

  /**
   * A request that waited longer than this for its model waited for a load (a cold start); below it is
   * a hit: a load takes tens of milliseconds at least, and a recording of an earlier server counted a
   * hit's hand-over between threads (microseconds) as its wait.
   */
  static final long COLD_WAIT_NANOS = 1_000_000;

  /** A service shared with fewer than this many others on average counts as served alone. */
  static final double ALONE = 1.1;
  /** ... and with at least this many, as shared (the slowdown is fitted on those). */
  static final double SHARED = 1.25;

  /**
   * Service per model and how services slow each other. Per model: seconds = prompt / prefill +
   * output / decode, least squares without intercept. With fewer than 10 warm requests (not the first
   * after their model's load) served beside others (on average at least {@value #SHARED} generations
   * in service, itself included) there is no slowdown to measure: the rates are fitted over the warm
   * requests served alone (3 at least; else over the warm ones; with fewer than 3 warm ones, over
   * all). Otherwise the slowdown ({@link io.mlxcap.sim.ServiceContention}) and the rates are fitted
   * together over every warm request: for each slowdown from 0 to 1 in hundredths, the rates over the
   * warm requests, each one's time divided by 1 + slowdown × the others beside it; the slowdown kept
   * is the one whose model leaves the least sum of squared relative errors. (Fitting the rates on the
   * few requests served alone and the slowdown against them, as before, took the rates from requests
   * that mostly came after idle time, slower on this machine, and then charged the slowdown on top:
   * the matrix's 4-worker services came out 20 to 35 % off.) Then per model what a cold service (one
   * that waited for its model's load) takes beyond its solo time, its share of the slowdown taken off:
   * the mean over its cold requests (3 at least), not the median, because the queue behind them pays
   * for the whole of it.
   */
  private static void fitService(Map<String, List<double[]>> service, Map<String, ModelFigures> models, Map<String, Figure> host,
      List<String> quality) {
    int shared = 0;
    for (List<double[]> all : service.values()) {
      shared += (int) all.stream().filter(r -> r[4] == 0 && r[3] >= SHARED).count();
    }
    // Without 10 shared services there is no slowdown to fit: the rates come from the services alone.
    Map<String, double[]> rates = ratesAt(service, 0, shared < 10);
    double slowdown = 0;
    if (shared >= 10) {
      double best = error(service, rates, 0);
      for (int step = 1; step <= SLOWDOWN_STEPS; step++) {
        double candidate = step / 100.0;
        Map<String, double[]> at = ratesAt(service, candidate, false);
        double e = error(service, at, candidate);
        if (e < best) {
          best = e;
          slowdown = candidate;
          rates = at;
        }
      }
    }
    double s = slowdown;
    Map<String, double[]> fitted = rates;
    service.forEach((model, all) -> {
      double[] rate = fitted.get(model);
      String how = (rate[3] == 1 ? "warm served requests" : "served requests") + ", each over its share of the slowdown: "
          + (rate[2] == 2 ? "service = prompt / prefill + output / decode (least squares, no intercept, both rates scaled so"
              + " that the fitted time adds up to the measured)"
          : rate[2] == 3 ? "service = output / decode, output tokens over service time (the prompt's share too small to measure:"
              + " prefill taken as free)"
          : "(prompt + output tokens) / service time, one rate (too few or too alike for two)");
      ModelFigures before = models.getOrDefault(model, new ModelFigures(null, null, null, null));
      models.put(model, new ModelFigures(before.bytes(), new Figure(rate[0], (int) rate[4], how),
          new Figure(rate[1], (int) rate[4], how), before.kvBytesPerToken()));
      quality.add(String.format(Locale.ROOT, "service       %-30s prefill %.0f, decode %.0f tokens/s from %d %srequests", model, rate[0],
          rate[1], (int) rate[4], rate[3] == 1 ? "warm " : ""));
    });
    host.put("service_slowdown_per_generation", new Figure(slowdown, shared,
        "warm served requests with others in service beside them (on average " + SHARED + " or more, itself included),"
            + " fitted with the rates over all warm requests: the slowdown from 0 to 1 in hundredths whose service"
            + " = solo time x (1 + slowdown x the others beside it) leaves the least squared relative error (0 with fewer than 10)"));
    quality.add(String.format(Locale.ROOT, "contention    each other generation in service adds %.0f %% of a solo service's time, from %d"
        + " requests served beside others", 100 * slowdown, shared));
    service.forEach((model, all) -> {
      double[] rate = fitted.get(model);
      List<Double> extra = new ArrayList<>();
      for (double[] r : all) {
        if (r[4] == 1) {
          extra.add(r[2] / (1 + s * Math.max(0, r[3] - 1)) - solo(r, rate));
        }
      }
      if (extra.size() >= 3) {
        double seconds = Math.round(extra.stream().mapToDouble(Double::doubleValue).average().orElse(0) * 1e4) / 1e4;
        ModelFigures before = models.get(model);
        models.put(model, new ModelFigures(before.bytes(), before.prefillTokensPerSecond(), before.decodeTokensPerSecond(),
            before.kvBytesPerToken(), new Figure(seconds, extra.size(), "requests that waited for this model's load: service"
                + " (its share of the slowdown taken off) minus solo time (mean)")));
        quality.add(String.format(Locale.ROOT, "cold service  %-30s %+.1f ms on the first service after a load, from %d requests",
            model, seconds * 1e3, extra.size()));
      }
    });
  }

  /** The slowdowns tried, in hundredths: 0 to 1 (a generation beside another taking up to twice as long). */
  static final int SLOWDOWN_STEPS = 100;

  /** Each model's rates with {@code slowdown} taken off every row; {@code preferAlone}: fitted on services alone when 3. */
  private static Map<String, double[]> ratesAt(Map<String, List<double[]>> service, double slowdown, boolean preferAlone) {
    Map<String, double[]> rates = new LinkedHashMap<>();
    service.forEach((model, all) -> rates.put(model, fitRates(all, slowdown, preferAlone)));
    return rates;
  }

  /** How far the service model is from the warm services: the sum of each one's squared relative error. */
  private static double error(Map<String, List<double[]>> service, Map<String, double[]> rates, double slowdown) {
    double sum = 0;
    for (Map.Entry<String, List<double[]>> e : service.entrySet()) {
      double[] rate = rates.get(e.getKey());
      for (double[] r : e.getValue()) {
        if (r[4] == 0 && r[2] > 0) {
          double predicted = solo(r, rate) * (1 + slowdown * Math.max(0, r[3] - 1));
          sum += Math.pow((predicted - r[2]) / r[2], 2);
        }
      }
    }
    return sum;
  }

  /**
   * {prefill, decode, 2 for two rates or 1 for one, 1 when fitted on warm requests, how many} for one
   * model's service rows, each row's time divided by 1 + {@code slowdown} × the others beside it.
   */
  private static double[] fitRates(List<double[]> all, double slowdown, boolean preferAlone) {
    List<double[]> warm = all.stream().filter(r -> r[4] == 0).toList();
    List<double[]> alone = warm.stream().filter(r -> r[3] < ALONE).toList();
    List<double[]> rows = preferAlone && alone.size() >= 3 ? alone : warm.size() >= 3 ? warm : all;
    double[] y = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      y[i] = rows.get(i)[2] / (1 + slowdown * Math.max(0, rows.get(i)[3] - 1));
    }
    if (rows.size() >= 3) {
      double[][] x = new double[rows.size()][];
      for (int i = 0; i < rows.size(); i++) {
        x[i] = new double[] {rows.get(i)[0], rows.get(i)[1]};
      }
      try {
        OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
        ols.setNoIntercept(true);
        ols.newSampleData(y, x);
        double[] b = ols.estimateRegressionParameters();
        if (b[0] > 0 && b[1] > 0) {
          // Without an intercept the residuals need not sum to 0: scale both rates so that the rows'
          // predicted time adds up to their measured time (a queue behind them pays for the total).
          double predicted = 0;
          double measured = 0;
          for (int i = 0; i < rows.size(); i++) {
            predicted += b[0] * rows.get(i)[0] + b[1] * rows.get(i)[1];
            measured += y[i];
          }
          double scale = predicted > 0 ? measured / predicted : 1;
          return new double[] {round(1 / (b[0] * scale)), round(1 / (b[1] * scale)), 2, rows == all ? 0 : 1, rows.size()};
        }
      } catch (RuntimeException singular) {
        // prompts or outputs all alike: below
      }
      // The prompt's share too small to tell from the noise (its slope came out 0 or less): the output
      // alone, and the prompt as good as free; a single rate over all tokens would charge a long
      // prompt as if each of its tokens were generated.
      double xy = 0;
      double xx = 0;
      double measured = 0;
      for (int i = 0; i < rows.size(); i++) {
        xy += rows.get(i)[1] * y[i];
        xx += rows.get(i)[1] * rows.get(i)[1];
        measured += y[i];
      }
      double outputs = rows.stream().mapToDouble(r -> r[1]).sum();
      if (xx > 0 && xy > 0 && outputs > 0) {
        return new double[] {PROMPT_FREE, round(outputs / measured), 3, rows == all ? 0 : 1, rows.size()};
      }
    }
    double seconds = java.util.Arrays.stream(y).sum();
    double tokens = rows.stream().mapToDouble(r -> r[0] + r[1]).sum();
    double rate = round(tokens / Math.max(seconds, 1e-9));
    return new double[] {rate, rate, 1, rows == all ? 0 : 1, rows.size()};
  }

  /** The prefill rate of a model whose prompts cost too little to measure. */
  static final double PROMPT_FREE = 1e9;

  /** A service row's solo time at {@code rate} (prefill, decode). */
  private static double solo(double[] row, double[] rate) {
    return row[0] / rate[0] + row[1] / rate[1];
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static double median(List<Long> values) {
    return Math.round(medianOf(values.stream().map(Long::doubleValue).toList()));
  }

}
