package io.mlxcap.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mlxcap.ByteSize;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** A {@link Prediction} for people (a table) and for programs (JSON, CSV). */
public final class SimulationReport {
  private final String traceName;
  private final Prediction p;

  public SimulationReport(String traceName, Prediction prediction) {
    this.traceName = traceName;
    this.p = prediction;
  }

  // ---- text ----

  /** Writes the readable summary. */
  public void printSummary(PrintWriter out) {
    SimResult e = p.expected();
    out.printf(Locale.ROOT, "trace          %s: %,d requests over %s%n", traceName, e.requests(), duration(e.endNanos()));
    out.printf("settings       %s%s%n", p.settings().policy() == io.mlxcap.settings.ServerPolicy.MLX ? ""
        : "policy " + p.settings().policy().id() + ": ", p.settings().toEnv().entrySet().stream()
        .map(x -> x.getKey() + "=" + (x.getValue().isEmpty() ? "''" : x.getValue())).collect(Collectors.joining(" ")));
    out.printf("host           %s%n", p.host().describe());
    out.printf(Locale.ROOT, "peak RSS       %s expected (low %s, high %s), first reached at %s%n",
        gb(e.peakRssBytes()), gb(p.low().peakRssBytes()), gb(p.high().peakRssBytes()), clock(e.peakAtNanos()));
    out.printf(Locale.ROOT, "mean RSS       %s expected (low %s, high %s), time-weighted%n", gb(Math.round(e.meanRssBytes())),
        gb(Math.round(p.low().meanRssBytes())), gb(Math.round(p.high().meanRssBytes())));
    out.printf(Locale.ROOT, "above %-8s %s expected (low %s, high %s) of RSS above the line%n", gb(e.ramLineBytes()),
        duration(e.aboveLineNanos()), duration(p.low().aboveLineNanos()), duration(p.high().aboveLineNanos()));
    out.printf(Locale.ROOT, "loads          %d (%s); evictions %d (%s)%n", e.totalLoads(), nonZero(e.loads()),
        e.totalEvictions(), nonZero(e.evictions()));
    out.printf(Locale.ROOT, "hits / cold    %,d / %,d (%.1f %% hits)%s%n", e.hits(), e.coldStarts(),
        100.0 * e.hits() / Math.max(1, e.hits() + e.coldStarts()), rejected(e));
    out.printf(Locale.ROOT, "cold starts    %s%n", percentiles(e.coldWait()));
    out.printf(Locale.ROOT, "latency        %s%n", percentiles(e.latency()));
    out.printf(Locale.ROOT, "queue wait     %s%n", percentiles(e.queueWait()));
    out.println("per model      model                           requests      cold  loads  evictions  cold p95");
    for (SimResult.ModelResult m : e.models()) {
      out.printf(Locale.ROOT, "               %-30s %9d %9d %6d %10d  %s%n", m.model(), m.requests(), m.coldStarts(),
          m.loads(), m.evictions(), m.coldWait().count() == 0 ? "-" : seconds(m.coldWait().quantile(0.95)));
    }
  }

  private static String rejected(SimResult e) {
    long rejected = e.rejected();
    return rejected == 0 ? "" : String.format(Locale.ROOT, "; %d rejected (queue full %d, too large %d,%s over context %d)",
        rejected, e.rejectedQueueFull(), e.rejectedTooLarge(),
        e.rejectedLoadFailed() == 0 ? "" : " load failed " + e.rejectedLoadFailed() + " (" + e.loadsFailed() + " loads),",
        e.rejectedOverContext());
  }

  private static String nonZero(Map<String, Long> counts) {
    String text = counts.entrySet().stream().filter(x -> x.getValue() > 0).map(x -> x.getKey() + " " + x.getValue())
        .collect(Collectors.joining(", "));
    return text.isEmpty() ? "none" : text;
  }

  private static String percentiles(LogHistogram h) {
    if (h.count() == 0) {
      return "none";
    }
    return String.format(Locale.ROOT, "%,d: p50 %s, p95 %s, p99 %s, max %s", h.count(), seconds(h.quantile(0.5)),
        seconds(h.quantile(0.95)), seconds(h.quantile(0.99)), seconds(h.max()));
  }

  static String seconds(long nanos) {
    double s = nanos / 1e9;
    return s < 10 ? String.format(Locale.ROOT, "%.3f s", s) : String.format(Locale.ROOT, "%.1f s", s);
  }

  static String gb(long bytes) {
    return ByteSize.format(bytes);
  }

  static String duration(long nanos) {
    long s = Math.round(nanos / 1e9);
    if (s < 60) {
      return s + " s";
    }
    long h = s / 3600;
    long m = (s % 3600) / 60;
    return h > 0 ? String.format(Locale.ROOT, "%dh %02dm %02ds", h, m, s % 60)
        : String.format(Locale.ROOT, "%dm %02ds", m, s % 60);
  }

  /** Trace time as hours:minutes:seconds since the start. */
  static String clock(long nanos) {
    long s = nanos / 1_000_000_000L;
    return String.format(Locale.ROOT, "t=%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
  }

  // ---- files ----

  /** Writes summary.json, models.csv and timeline.csv into {@code dir}; returns their paths. */
  public List<Path> write(Path dir) {
    try {
      Files.createDirectories(dir);
      List<Path> files = new ArrayList<>();
      Path json = dir.resolve("summary.json");
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), json());
      files.add(json);
      files.add(writeModels(dir.resolve("models.csv")));
      files.add(writeTimeline(dir.resolve("timeline.csv")));
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The summary as a JSON tree of plain maps: sizes in bytes, times in seconds. */
  public Map<String, Object> json() {
    SimResult e = p.expected();
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("trace", traceName);
    if (p.settings().policy() != io.mlxcap.settings.ServerPolicy.MLX) {
      root.put("policy", p.settings().policy().id()); // absent: mlx, as in every file written before policies
    }
    root.put("settings", p.settings().toEnv());
    Map<String, Object> host = new LinkedHashMap<>();
    host.put("ram_bytes", p.host().ramBytes());
    host.put("other_bytes", p.host().otherBytes());
    host.put("runtime_base_bytes", p.host().runtimeBaseBytes());
    host.put("load_bytes_per_s", p.host().loadBytesPerSecond());
    host.put("load_overhead_s", p.host().loadOverhead().toNanos() / 1e9);
    host.put("load_transient", p.host().loadTransient());
    root.put("host", host);
    root.put("requests", e.requests());
    root.put("served", e.served());
    Map<String, Object> rejected = new LinkedHashMap<>(Ordered.map("queue_full", e.rejectedQueueFull(), "too_large",
        e.rejectedTooLarge(), "over_context", e.rejectedOverContext()));
    if (p.settings().policy().failsLoadsThatDoNotFit()) {
      rejected.put("load_failed", e.rejectedLoadFailed()); // only this policy's files have it: the others never fail a load
      root.put("loads_failed", e.loadsFailed());
    }
    root.put("rejected", rejected);
    root.put("span_s", e.endNanos() / 1e9);
    root.put("peak_rss_bytes", bounds(SimResult::peakRssBytes));
    root.put("peak_at_s", Ordered.map("low", p.low().peakAtNanos() / 1e9, "expected", e.peakAtNanos() / 1e9,
        "high", p.high().peakAtNanos() / 1e9));
    root.put("mean_rss_bytes", bounds(r -> Math.round(r.meanRssBytes())));
    root.put("ram_line_bytes", e.ramLineBytes());
    root.put("above_line_s", Ordered.map("low", p.low().aboveLineNanos() / 1e9, "expected", e.aboveLineNanos() / 1e9,
        "high", p.high().aboveLineNanos() / 1e9));
    root.put("loads", e.loads());
    root.put("evictions", e.evictions());
    root.put("preloads_skipped", e.preloadsSkipped());
    root.put("hits", e.hits());
    root.put("cold_starts", e.coldStarts());
    root.put("cold_start_wait_s", histogram(e.coldWait()));
    root.put("latency_s", histogram(e.latency()));
    root.put("queue_wait_s", histogram(e.queueWait()));
    List<Map<String, Object>> models = new ArrayList<>();
    for (SimResult.ModelResult m : e.models()) {
      Map<String, Object> model = new LinkedHashMap<>();
      model.put("model", m.model());
      model.put("requests", m.requests());
      model.put("hits", m.hits());
      model.put("cold_starts", m.coldStarts());
      model.put("loads", m.loads());
      model.put("evictions", m.evictions());
      model.put("cold_start_wait_s", histogram(m.coldWait()));
      models.add(model);
    }
    root.put("models", models);
    root.put("percentile_precision", "quantiles are exact to within 0.8 % (log-bucketed histogram)");
    return root;
  }

  private Map<String, Long> bounds(java.util.function.ToLongFunction<SimResult> f) {
    Map<String, Long> b = new LinkedHashMap<>();
    b.put("low", f.applyAsLong(p.low()));
    b.put("expected", f.applyAsLong(p.expected()));
    b.put("high", f.applyAsLong(p.high()));
    return b;
  }

  private static Map<String, Object> histogram(LogHistogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", h.count());
    m.put("mean", h.count() == 0 ? null : h.mean() / 1e9);
    m.put("p50", h.count() == 0 ? null : h.quantile(0.5) / 1e9);
    m.put("p95", h.count() == 0 ? null : h.quantile(0.95) / 1e9);
    m.put("p99", h.count() == 0 ? null : h.quantile(0.99) / 1e9);
    m.put("max", h.count() == 0 ? null : h.max() / 1e9);
    return m;
  }

  private Path writeModels(Path file) throws IOException {
    StringBuilder csv = new StringBuilder("model,requests,hits,cold_starts,loads,evictions,cold_wait_p50_s,cold_wait_p95_s,cold_wait_max_s\n");
    for (SimResult.ModelResult m : p.expected().models()) {
      LogHistogram h = m.coldWait();
      csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%d,%s,%s,%s%n", m.model(), m.requests(), m.hits(),
          m.coldStarts(), m.loads(), m.evictions(), num(h, 0.5), num(h, 0.95), h.count() == 0 ? "" : h.max() / 1e9));
    }
    return Files.writeString(file, csv.toString());
  }

  private static String num(LogHistogram h, double q) {
    return h.count() == 0 ? "" : Double.toString(h.quantile(q) / 1e9);
  }

  /** The highest RSS per time bin of each pass, long form: estimate, bin start, bytes. */
  private Path writeTimeline(Path file) throws IOException {
    StringBuilder csv = new StringBuilder("estimate,t_s,rss_bytes_max\n");
    List<SimResult> passes = List.of(p.low(), p.expected(), p.high());
    for (io.mlxcap.model.SizeRange.Estimate slot : io.mlxcap.model.SizeRange.Estimate.values()) {
      // One pass stands for all three when every size is exact; each keeps its own label.
      String estimate = slot.name().toLowerCase(Locale.ROOT);
      for (MemoryTimeline.Point point : passes.get(slot.ordinal()).timeline()) {
        csv.append(estimate).append(',').append(point.timeNanos() / 1e9).append(',').append(point.rssBytes()).append('\n');
      }
    }
    return Files.writeString(file, csv.toString());
  }
}
