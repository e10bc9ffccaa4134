package io.mlxcap.report;

import io.mlxcap.ByteSize;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.SimResult;
import io.mlxcap.sweep.Advice;
import io.mlxcap.sweep.Pareto;
import io.mlxcap.sweep.Row;
import io.mlxcap.sweep.Sweep;
import io.mlxcap.sweep.SweepTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The written parts of a capacity report, each a method that adds its heading, words and tables to a
 * {@link Doc}: the recommendation and its trade-offs, the seed's lesson, the advice scored, the Pareto
 * table, the per-model table and the assumptions.
 */
final class Sections {
  private Sections() {}

  static void recommendation(Doc doc, Row rec, SweepTable table, Settings defaults) {
    doc.heading(2, "Recommendation");
    Map<String, String> changes = changedFromDefaults(rec.settings(), defaults);
    doc.paragraph(String.format(Locale.ROOT, "Of the configurations whose peak RSS stays within the budget of **%s**"
            + " even with every model at the high end of its size, this one has the fewest cold starts%s:",
        gb(rec.budgetBytes()), rec.refused() > 0 ? " among those that refuse the fewest requests" : ""));
    doc.code(setting(rec.settings(), defaults));
    doc.bullets(List.of(
        String.format(Locale.ROOT, "Peak RSS **%s** expected (low %s, high %s); mean %s.", gb(rec.peak().expected()),
            gb(rec.peak().low()), gb(rec.peak().high()), gb(rec.mean().expected())),
        String.format(Locale.ROOT, "**%,d cold starts** (%.1f per hour), cold-start wait p95 **%s**; request latency"
                + " p95 %s.", rec.coldStarts(), rec.coldStartsPerHour(), secs(rec.coldP95()), secs(rec.latencyP95())),
        String.format(Locale.ROOT, "%,d loads (%.1f per hour); %s.", rec.totalLoads(), rec.loadsPerHour(),
            rec.refused() == 0 ? "no request refused" : rec.refused() + " requests refused"),
        peakSetBy(rec)));
    if (rec.refused() > 0) {
      doc.paragraph(String.format(Locale.ROOT, "**No configuration serves every request within this budget: this one"
              + " refuses %,d of %,d requests (%.1f %%)**, %s. Raise the budget or give the server fewer or smaller"
              + " models.", rec.refused(), rec.requests(), 100.0 * rec.refused() / Math.max(1, rec.requests()),
          rec.rejectedTooLarge() > 0 ? "models larger than its byte budget"
              : rec.rejectedOverContext() > 0 && rec.rejectedQueueFull() == 0 ? "requests longer than their model's context"
              : "its queue being full"));
    }
    List<Row> rows = table.rows();
    boolean[] front = Pareto.peakVersusLoads(rows);
    Row up = null;
    Row down = null;
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (!front[i] || r.refused() > rec.refused()) {
        continue;
      }
      if (r.peak().high() > rec.peak().high() && r.totalLoads() < rec.totalLoads()
          && (up == null || r.peak().high() < up.peak().high())) {
        up = r;
      }
      if (r.peak().high() < rec.peak().high() && r.totalLoads() > rec.totalLoads()
          && (down == null || r.peak().high() > down.peak().high())) {
        down = r;
      }
    }
    List<String> tradeoffs = new ArrayList<>();
    if (up != null) {
      tradeoffs.add(String.format(Locale.ROOT, "One step up the front, %s: **%s loads for %s peak** (high %s, %s the"
              + " budget).", diff(rec, up), percent(up.totalLoads(), rec.totalLoads()),
          signedGb(up.peak().high() - rec.peak().high()), gb(up.peak().high()), up.fitsBudget() ? "within" : "over"));
    }
    if (down != null) {
      tradeoffs.add(String.format(Locale.ROOT, "One step down, %s: **%s peak for %s loads** (high %s).", diff(rec, down),
          signedGb(down.peak().high() - rec.peak().high()), percent(down.totalLoads(), rec.totalLoads()),
          gb(down.peak().high())));
    }
    if (!tradeoffs.isEmpty()) {
      doc.paragraph("The next trade-offs on the front of peak RSS against loads:");
      doc.bullets(tradeoffs);
    }
  }

  /** "Its peak is set by X and Y resident together", when the two largest resident models make most of it. */
  static String peakSetBy(Row rec) {
    List<String> models = new ArrayList<>(rec.peakModels());
    if (models.isEmpty()) {
      return "At its peak no model is resident: the peak is the runtime and working memory.";
    }
    return "At its peak (high bound) these models are loading or resident together: " + String.join(", ", models
        .stream().map(m -> "`" + m + "`").toList()) + ".";
  }

  static void lesson(Doc doc, Row rec, List<Sweep.Outcome> advice, List<Row> rows) {
    Optional<Row> fix = Advice.all().stream().filter(a -> a.name().equals(Advice.THE_FIX)).findFirst()
        .flatMap(a -> advice.get(Advice.all().indexOf(a)).row());
    if (fix.isEmpty() || fix.get().peakModels().size() < 2) {
      return;
    }
    Optional<Row> budgeted = rows.stream()
        .filter(r -> r.settings().cache().maxBytes() != io.mlxcap.cache.CachePolicy.UNLIMITED_BYTES)
        .filter(r -> r.refused() == 0)
        .min(java.util.Comparator.comparingLong(Row::coldStarts).thenComparingLong(r -> r.peak().high()));
    if (budgeted.isEmpty() || budgeted.get().peak().high() >= fix.get().peak().high()) {
      return;
    }
    Row f = fix.get();
    Row b = budgeted.get();
    doc.heading(2, "A count cap does not bound memory; a byte budget does");
    doc.paragraph(String.format(Locale.ROOT, "A cap counts models, not bytes. Under the fix's defaults"
            + " (`MLX_MAX_CACHED_MODELS=%d`) the peak is **%s** (high %s), reached with %s in memory together."
            + " A byte budget bounds what any set of models may hold: `%s` peaks at **%s** (high %s), with %,d cold"
            + " starts against the fix's %,d.",
        f.settings().cache().maxModels(), gb(f.peak().expected()), gb(f.peak().high()),
        String.join(" and ", f.peakModels().stream().map(m -> "`" + m + "`").toList()),
        b.configuration().label(), gb(b.peak().expected()), gb(b.peak().high()), b.coldStarts(), f.coldStarts()));
  }

  static void adviceTable(Doc doc, List<Advice> advice, List<Sweep.Outcome> outcomes, Row rec) {
    doc.heading(2, "The seed note's advice, scored on this trace");
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < advice.size(); i++) {
      Optional<Row> r = outcomes.get(i).row();
      if (r.isEmpty()) {
        continue;
      }
      rows.add(scoreRow(advice.get(i).name(), r.get()));
    }
    rows.add(scoreRow("**recommended**", rec));
    doc.table(List.of("advice", "settings", "peak RSS expected (low–high)", "fits budget", "cold starts", "per hour",
        "cold-start p95", "latency p95", "refused"), rows, "");
  }

  private static List<String> scoreRow(String name, Row r) {
    return List.of(name, "`" + r.configuration().label() + "`", String.format(Locale.ROOT, "%s (%s–%s)",
            gb(r.peak().expected()), gb(r.peak().low()), gb(r.peak().high())), r.fitsBudget() ? "yes" : "**no**",
        String.format(Locale.ROOT, "%,d", r.coldStarts()), String.format(Locale.ROOT, "%.1f", r.coldStartsPerHour()),
        secs(r.coldP95()), secs(r.latencyP95()), Long.toString(r.refused()));
  }

  static void paretoTable(Doc doc, SweepTable table) {
    doc.heading(2, "The Pareto front");
    List<Integer> front = new ArrayList<>();
    for (int i = 0; i < table.rows().size(); i++) {
      if (table.onColdP95Front(i) || table.onLoadsFront(i)) {
        front.add(i);
      }
    }
    front.sort(java.util.Comparator.comparingLong((Integer i) -> table.rows().get(i).peak().high())
        .thenComparingInt(i -> i));
    List<List<String>> rows = new ArrayList<>();
    for (int i : front) {
      Row r = table.rows().get(i);
      boolean recommended = table.recommended().map(x -> x == r).orElse(false);
      rows.add(List.of((recommended ? "**" : "") + "`" + r.configuration().label() + "`" + (recommended ? "** (recommended)" : ""),
          gb(r.peak().high()), String.format(Locale.ROOT, "%,d", r.coldStarts()), secs(r.coldP95()),
          String.format(Locale.ROOT, "%.1f", r.loadsPerHour()), Long.toString(r.refused()),
          (table.onColdP95Front(i) ? "p95" : "") + (table.onColdP95Front(i) && table.onLoadsFront(i) ? ", " : "")
              + (table.onLoadsFront(i) ? "loads" : ""),
          r.fitsBudget() ? "yes" : "no"));
    }
    doc.table(List.of("configuration", "peak RSS high", "cold starts", "cold-start p95", "loads per hour", "refused",
        "front", "fits budget"), rows, "Configurations on the front of peak RSS (high) against cold-start p95 (p95), or"
        + " against loads per hour (loads), by peak.");
  }

  static void perModel(Doc doc, SimResult e, ModelTable table) {
    doc.heading(2, "Per model, under the recommendation");
    List<List<String>> rows = new ArrayList<>();
    for (SimResult.ModelResult m : e.models()) {
      ModelSpec spec = table.resolve(m.model());
      rows.add(List.of("`" + m.model() + "`", spec.size().toString(), String.format(Locale.ROOT, "%,d", m.requests()),
          String.format(Locale.ROOT, "%,d", m.coldStarts()), String.format(Locale.ROOT, "%,d", m.loads()),
          String.format(Locale.ROOT, "%,d", m.evictions()),
          m.coldWait().count() == 0 ? "-" : secs(m.coldWait().quantile(0.95))));
    }
    doc.table(List.of("model", "resident size", "requests", "cold starts", "loads", "evictions", "cold-start p95"), rows, "");
  }

  static void assumptions(Doc doc, Row rec, ModelTable table, CapacityReport.Input in) {
    doc.heading(2, "Assumptions");
    doc.bullets(List.of(
        "Host: " + rec.host().describe() + ".",
        "Budget: " + gb(rec.budgetBytes()) + " for the server's RSS" + " (high bound of the peak);"
            + " RAM line: " + gb(rec.ramLineBytes()) + ".",
        "Memory: RSS = runtime base + resident models + loads in progress + working memory of requests in service"
            + " ((prompt + output tokens) × the model's KV bytes per token); exact peak over every event.",
        "Service: the trace's service times where it has them, else the model's prefill and decode rates.",
        "Settings the grid does not vary (the trace's own, `--set`, else the defaults): " + String.join(" ",
            rec.settings().toEnv().entrySet().stream().filter(e -> in.grid().stream()
                    .noneMatch(c -> c.settings().containsKey(e.getKey())))
                .map(e -> "`" + e.getKey() + "=" + (e.getValue().isEmpty() ? "''" : e.getValue()) + "`").toList()) + "."));
    List<List<String>> rows = new ArrayList<>();
    for (ModelSpec m : table.models()) {
      rows.add(List.of("`" + m.name() + "`", String.join(", ", m.aliases()), m.size().toString(),
          String.format(Locale.ROOT, "%,d", m.performance().kvBytesPerToken()),
          String.format(Locale.ROOT, "%.0f / %.0f", m.performance().prefillTokensPerSecond(),
              m.performance().decodeTokensPerSecond())));
    }
    doc.table(List.of("model", "aliases", "resident size", "KV bytes per token", "prefill / decode tokens per s"), rows,
        "The model table.");
  }

  /** The variables {@code settings} sets away from {@code defaults}, with their values, in the policy's order. */
  static Map<String, String> changedFromDefaults(Settings settings, Settings defaults) {
    Map<String, String> changes = new java.util.LinkedHashMap<>();
    Map<String, String> d = defaults.toEnv();
    settings.toEnv().forEach((k, v) -> {
      if (!v.equals(d.get(k))) {
        changes.put(k, v);
      }
    });
    return changes;
  }

  /** How to set {@code settings} on their server, as lines to copy: nothing when they are its defaults. */
  static String setting(Settings settings, Settings defaults) {
    Map<String, String> changes = changedFromDefaults(settings, defaults);
    return changes.isEmpty() ? "# the defaults: set nothing" : String.join("\n", settings.policy().howToSet(changes));
  }

  private static String diff(Row from, Row to) {
    List<String> parts = new ArrayList<>();
    Map<String, String> a = from.settings().toEnv();
    to.settings().toEnv().forEach((k, v) -> {
      if (!v.equals(a.get(k))) {
        parts.add("`" + k + "` " + show(a.get(k)) + " → " + show(v));
      }
    });
    return parts.isEmpty() ? "other host values" : String.join(", ", parts);
  }

  private static String show(String v) {
    return v == null || v.isEmpty() ? "''" : v;
  }

  static String gb(long bytes) {
    return ByteSize.format(bytes);
  }

  private static String signedGb(long bytes) {
    return (bytes >= 0 ? "+" : "−") + ByteSize.format(Math.abs(bytes));
  }

  private static String percent(long to, long from) {
    if (from == 0) {
      return to == 0 ? "±0 %" : "+" + to;
    }
    double p = 100.0 * (to - from) / from;
    return String.format(Locale.ROOT, "%s%.0f %%", p >= 0 ? "+" : "−", Math.abs(p));
  }

  static String secs(long nanos) {
    double s = nanos / 1e9;
    return s < 10 ? String.format(Locale.ROOT, "%.2f s", s) : String.format(Locale.ROOT, "%.1f s", s);
  }

  static String span(long nanos) {
    return io.mlxcap.Durations.format(nanos / 1e9);
  }
}
