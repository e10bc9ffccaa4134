package io.mlxcap.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostParameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A finished sweep: its rows with the Pareto fronts and the recommendation marked, the skipped
 * configurations with their reasons, and its CSV and JSON forms (the same bytes for the same inputs).
 */
public final class SweepTable {
  private final List<Row> rows = new ArrayList<>();
  private final List<Sweep.Outcome> skipped = new ArrayList<>();
  private final boolean[] frontColdP95;
  private final boolean[] frontLoads;
  private final Optional<Row> recommended;
  private final List<String> columns;

  /** Marks the fronts and picks the recommendation among {@code outcomes}. */
  public SweepTable(List<Sweep.Outcome> outcomes, Settings defaults) {
    for (Sweep.Outcome o : outcomes) {
      if (o.row().isPresent()) {
        rows.add(o.row().get());
      } else {
        skipped.add(o);
      }
    }
    frontColdP95 = Pareto.peakVersusColdP95(rows);
    frontLoads = Pareto.peakVersusLoads(rows);
    recommended = Recommendation.choose(rows, defaults);
    columns = columns(defaults.policy());
  }

  public List<Row> rows() {
    return rows;
  }

  public List<Sweep.Outcome> skipped() {
    return skipped;
  }

  public Optional<Row> recommended() {
    return recommended;
  }

  /** Whether row {@code i} (of {@link #rows}) is on the front of peak RSS against cold-start p95. */
  public boolean onColdP95Front(int i) {
    return frontColdP95[i];
  }

  /** Whether row {@code i} is on the front of peak RSS against loads per hour. */
  public boolean onLoadsFront(int i) {
    return frontLoads[i];
  }

  public boolean[] coldP95Front() {
    return frontColdP95.clone();
  }

  /** The columns of a sweep of {@code policy}'s settings: its variables, then the host and the figures. */
  private static List<String> columns(io.mlxcap.settings.ServerPolicy policy) {
    List<String> c = new ArrayList<>(List.of("index", "label"));
    c.addAll(policy.variables());
    for (HostParameter h : HostParameter.values()) {
      c.add(h.key().replace('-', '_'));
    }
    c.addAll(List.of("ram_line_bytes", "budget_bytes", "peak_rss_low_bytes", "peak_rss_expected_bytes",
        "peak_rss_high_bytes", "mean_rss_low_bytes", "mean_rss_expected_bytes", "mean_rss_high_bytes",
        "above_line_low_s", "above_line_expected_s", "above_line_high_s", "requests", "served", "refused_queue_full",
        "refused_too_large", "refused_over_context", "hits", "cold_starts", "cold_starts_per_hour", "loads", "loads_per_hour"));
    for (LoadCause cause : LoadCause.values()) {
      c.add("loads_" + cause.wireName());
    }
    for (EvictionReason reason : EvictionReason.values()) {
      c.add("evictions_" + reason.wireName());
    }
    c.addAll(List.of("cold_wait_p50_s", "cold_wait_p95_s", "cold_wait_p99_s", "latency_p50_s", "latency_p95_s",
        "latency_p99_s", "span_s", "peak_models_high", "fits_budget", "pareto_peak_cold_p95", "pareto_peak_loads",
        "recommended"));
    return List.copyOf(c);
  }

  /** One line a configuration, with a header; fields holding commas or quotes are quoted. */
  public String csv() {
    StringBuilder out = new StringBuilder(String.join(",", columns)).append('\n');
    for (int i = 0; i < rows.size(); i++) {
      List<String> cells = new ArrayList<>();
      for (Object value : values(i).values()) {
        cells.add(csvCell(value));
      }
      out.append(String.join(",", cells)).append('\n');
    }
    return out.toString();
  }

  /** The figures of row {@code i} by column, in {@link #columns} order. */
  public Map<String, Object> values(int i) {
    Row r = rows.get(i);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("index", r.index());
    v.put("label", r.configuration().label());
    r.settings().toEnv().forEach(v::put);
    for (HostParameter h : HostParameter.values()) {
      v.put(h.key().replace('-', '_'), h.valueOf(r.host()));
    }
    v.put("ram_line_bytes", r.ramLineBytes());
    v.put("budget_bytes", r.budgetBytes());
    v.put("peak_rss_low_bytes", r.peak().low());
    v.put("peak_rss_expected_bytes", r.peak().expected());
    v.put("peak_rss_high_bytes", r.peak().high());
    v.put("mean_rss_low_bytes", r.mean().low());
    v.put("mean_rss_expected_bytes", r.mean().expected());
    v.put("mean_rss_high_bytes", r.mean().high());
    v.put("above_line_low_s", seconds(r.aboveLine().low()));
    v.put("above_line_expected_s", seconds(r.aboveLine().expected()));
    v.put("above_line_high_s", seconds(r.aboveLine().high()));
    v.put("requests", r.requests());
    v.put("served", r.served());
    v.put("refused_queue_full", r.rejectedQueueFull());
    v.put("refused_too_large", r.rejectedTooLarge());
    v.put("refused_over_context", r.rejectedOverContext());
    if (r.settings().policy().failsLoadsThatDoNotFit()) {
      v.put("refused_load_failed", r.rejectedLoadFailed());
      v.put("loads_failed", r.loadsFailed());
    }
    v.put("hits", r.hits());
    v.put("cold_starts", r.coldStarts());
    v.put("cold_starts_per_hour", round(r.coldStartsPerHour()));
    v.put("loads", r.totalLoads());
    v.put("loads_per_hour", round(r.loadsPerHour()));
    for (LoadCause cause : LoadCause.values()) {
      v.put("loads_" + cause.wireName(), r.loads().getOrDefault(cause.wireName(), 0L));
    }
    for (EvictionReason reason : EvictionReason.values()) {
      v.put("evictions_" + reason.wireName(), r.evictions().getOrDefault(reason.wireName(), 0L));
    }
    v.put("cold_wait_p50_s", seconds(r.coldP50()));
    v.put("cold_wait_p95_s", seconds(r.coldP95()));
    v.put("cold_wait_p99_s", seconds(r.coldP99()));
    v.put("latency_p50_s", seconds(r.latencyP50()));
    v.put("latency_p95_s", seconds(r.latencyP95()));
    v.put("latency_p99_s", seconds(r.latencyP99()));
    v.put("span_s", seconds(r.spanNanos()));
    v.put("peak_models_high", String.join("+", r.peakModels()));
    v.put("fits_budget", r.fitsBudget());
    v.put("pareto_peak_cold_p95", frontColdP95[i]);
    v.put("pareto_peak_loads", frontLoads[i]);
    v.put("recommended", recommended.isPresent() && recommended.get() == r);
    return v;
  }

  /** The rows as JSON, with the skipped configurations and their reasons. */
  public String json(Map<String, Object> about) {
    Map<String, Object> root = new LinkedHashMap<>(about);
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      list.add(values(i));
    }
    root.put("configurations", list);
    List<Map<String, Object>> skip = new ArrayList<>();
    for (Sweep.Outcome o : skipped) {
      skip.add(io.mlxcap.sim.Ordered.map("label", o.configuration().label(), "reason", o.skipped().orElse("")));
    }
    root.put("skipped", skip);
    root.put("recommended", recommended.map(r -> (Object) r.index()).orElse(null));
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }

  static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  private static String csvCell(Object value) {
    String text = value instanceof Double d ? String.format(Locale.ROOT, "%s", d) : String.valueOf(value);
    return text.contains(",") || text.contains("\"") || text.contains("\n")
        ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
  }
}
