package io.mlxcap.report;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CacheEvent;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.LruCurve;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sim.SimResult;
import io.mlxcap.sim.Simulation;
import io.mlxcap.sweep.Advice;
import io.mlxcap.sweep.Configuration;
import io.mlxcap.sweep.Pareto;
import io.mlxcap.sweep.Recommendation;
import io.mlxcap.sweep.Row;
import io.mlxcap.sweep.Sweep;
import io.mlxcap.sweep.SweepTable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * A what-if capacity report: the sweep, its Pareto front and recommendation, the seed note's advice
 * scored on the same trace, five charts, and the tables behind them, as one {@link Doc} and the
 * files it is written to.
 *
 * <h2>What the report decides</h2>
 * The recommendation is {@link Recommendation}'s. The "next trade-off" is the neighbour of the
 * recommendation on the front of peak RSS (high) against loads per hour: what one step up buys and
 * what one step down saves. The seed's lesson (a count cap does not bound memory, a byte budget does)
 * is said when the fix's defaults peak with two or more models resident together and some
 * configuration with a byte budget peaks lower.
 */
public final class CapacityReport {
  /** What a report is about. */
  public record Input(String traceName, String traceSource, Sweep sweep, List<Configuration> grid, String command) {}

  /** The report's files, by name, in the order written. */
  public record Output(Map<String, byte[]> files, Row recommended, SweepTable table) {}

  private CapacityReport() {}

  /**
   * Runs the sweep and the seed's advice, and writes the report.
   *
   * @throws InvalidInputException when no configuration stays within its budget (naming the closest)
   */
  public static Output build(Input in, int threads, IntConsumer progress) {
    Sweep sweep = in.sweep();
    ModelTable table = sweep.table();
    Settings defaults = Settings.defaults(table);
    List<Advice> advice = Advice.all();
    List<Configuration> all = new ArrayList<>(in.grid());
    advice.forEach(a -> all.add(a.configuration()));
    List<Sweep.Outcome> outcomes = sweep.run(all, threads, progress);
    // The seed's settings and advice compete with the grid: a reader should never see advice beat the recommendation.
    SweepTable table1 = new SweepTable(outcomes, defaults);
    List<Sweep.Outcome> adviceOutcomes = outcomes.subList(in.grid().size(), outcomes.size());
    Row rec = table1.recommended().orElseThrow(() -> noneFits(table1));

    Map<String, byte[]> files = new LinkedHashMap<>();
    Doc doc = new Doc();
    doc.heading(1, "What-if capacity report: " + in.traceName());
    SimResult any = sweep.predict(rec.configuration()).expected();
    doc.paragraph(String.format(Locale.ROOT, "%,d requests over %s (%s). %,d configurations simulated (the grid and"
            + " the seed note's %d settings)%s, each with every model at the low, expected and high end of its size range.",
        rec.requests(), span(any.endNanos()), in.traceSource(), table1.rows().size(), advice.size(),
        table1.skipped().isEmpty() ? "" : "; " + table1.skipped().size() + " skipped, listed at the end"));

    recommendation(doc, rec, table1, defaults);
    lesson(doc, rec, adviceOutcomes, table1.rows());
    adviceTable(doc, advice, adviceOutcomes, rec);

    // Charts.
    List<Charts.Featured> featured = new ArrayList<>();
    for (int i = 0; i < advice.size(); i++) {
      String name = advice.get(i).name();
      if ((name.equals(Advice.BEFORE_THE_FIX) || name.equals(Advice.THE_FIX)) && adviceOutcomes.get(i).row().isPresent()) {
        featured.add(new Charts.Featured(name, sweep.predict(advice.get(i).configuration())));
      }
    }
    featured.add(new Charts.Featured("recommended", sweep.predict(rec.configuration())));
    doc.heading(2, "Charts");
    chart(doc, files, "rss-over-time.png", Charts.rssOverTime(featured, rec.ramLineBytes()),
        "RSS over the trace under the seed's old settings, the fix's defaults and the recommendation: the solid line"
            + " is the expected size of every model, the faint lines the low and high ends; the dashed line is the"
            + " RAM the rest of the host leaves.");
    chart(doc, files, "pareto.png", Charts.pareto(table1.rows(), table1.coldP95Front(),
            Pareto.front(table1.rows(), r -> r.peak().high(), Row::coldStartsPerHour), rec, rec.budgetBytes()),
        "Every configuration's peak RSS (high bound) against its cold-start wait p95 (left) and its cold starts per"
            + " hour (right). The blue line is the Pareto front (nothing beats a configuration on it in both), the"
            + " green diamond the recommendation, triangles configurations that refuse requests (a model larger"
            + " than their byte budget), the dashed line the budget.");
    chart(doc, files, "cold-start-cdf.png", Charts.coldStartCdf(featured),
        "How long cold requests waited for their model, as the share that waited at most so long (left and high"
            + " is better); the legend counts each configuration's cold starts.");
    LruCurve.Result curve = LruCurve.compute(sweep.trace().replay(), rec.settings().preloadModels(), table);
    String preload = rec.settings().preloadModels().isEmpty() ? "none" : String.join(",", rec.settings().preloadModels());
    chart(doc, files, "loads-vs-cap.png", Charts.loadsVersusCap(curve, preload),
        "Model loads over the trace at every MLX_MAX_CACHED_MODELS, from one pass over LRU stack distances (pure"
            + " count-LRU with one worker; idle TTL, byte budget and pressure off). Where the curve flattens, one more"
            + " cached model stops paying for its memory.");
    Configuration.Resolved resolved = sweep.resolve(rec.configuration());
    List<Charts.Residence> stays = residency(sweep, resolved);
    List<String> models = table.models().stream().map(ModelSpec::name).toList();
    chart(doc, files, "residency.png", Charts.residency("the recommendation", models, stays, any.endNanos()),
        "Which model was loading or resident when under the recommendation (expected sizes): overlapping bars are"
            + " what the memory holds at once.");

    paretoTable(doc, table1);
    perModel(doc, sweep.predict(rec.configuration()).expected(), table);
    assumptions(doc, rec, table, in);
    if (!table1.skipped().isEmpty()) {
      doc.heading(2, "Skipped configurations");
      List<List<String>> rows = new ArrayList<>();
      for (Sweep.Outcome o : table1.skipped()) {
        rows.add(List.of("`" + o.configuration().label() + "`", o.skipped().orElse("")));
      }
      doc.table(List.of("configuration", "why it was not simulated"), rows, "");
    }
    doc.heading(2, "Reproduce");
    doc.paragraph("This command gives this report again, byte for byte, whatever `--threads` says (add `-o DIR` to"
        + " choose the folder). `sweep.csv` and `sweep.json` beside this page hold every figure of every configuration.");
    doc.code(in.command());

    files.put("report.md", Render.markdown(doc).getBytes(StandardCharsets.UTF_8));
    files.put("index.html", Render.html(doc, "mlxcap report: " + in.traceName()).getBytes(StandardCharsets.UTF_8));
    files.put("sweep.csv", table1.csv().getBytes(StandardCharsets.UTF_8));
    files.put("sweep.json", table1.json(io.mlxcap.sim.Ordered.map("trace", in.traceName(), "command", in.command()))
        .getBytes(StandardCharsets.UTF_8));
    return new Output(files, rec, table1);
  }

  /** The sentence for a budget nobody meets, naming the closest configuration. */
  public static InvalidInputException noneFits(SweepTable table) {
    if (table.rows().isEmpty()) {
      return new InvalidInputException("every configuration of the grid was refused; the first: "
          + table.skipped().get(0).configuration().label() + ": " + table.skipped().get(0).skipped().orElse(""));
    }
    Row closest = Recommendation.closest(table.rows()).orElseThrow();
    return new InvalidInputException(String.format(Locale.ROOT,
        "no configuration's peak RSS (high bound) stays within the budget of %s; the closest is %s at %s",
        gb(closest.budgetBytes()), closest.configuration().label(), gb(closest.peak().high())));
  }

  private static void chart(Doc doc, Map<String, byte[]> files, String name, byte[] png, String caption) {
    files.put(name, png);
    doc.image(name, png, caption);
  }

  // ---- the answer ----

  private static void recommendation(Doc doc, Row rec, SweepTable table, Settings defaults) {
    doc.heading(2, "Recommendation");
    List<String> changes = changedFromDefaults(rec.settings(), defaults);
    doc.paragraph(String.format(Locale.ROOT, "Of the configurations whose peak RSS stays within the budget of **%s**"
            + " even with every model at the high end of its size, this one has the fewest cold starts%s:",
        gb(rec.budgetBytes()), rec.refused() > 0 ? " among those that refuse the fewest requests" : ""));
    doc.code(changes.isEmpty() ? "# the defaults: set nothing" : String.join("\n", changes.stream()
        .map(c -> "export " + c).toList()));
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
          rec.rejectedTooLarge() > 0 ? "models larger than its byte budget" : "its queue being full"));
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

  private static void lesson(Doc doc, Row rec, List<Sweep.Outcome> advice, List<Row> rows) {
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
        budgetLabel(b), gb(b.peak().expected()), gb(b.peak().high()), b.coldStarts(), f.coldStarts()));
  }

  private static String budgetLabel(Row r) {
    return r.configuration().label();
  }

  private static void adviceTable(Doc doc, List<Advice> advice, List<Sweep.Outcome> outcomes, Row rec) {
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

  private static void paretoTable(Doc doc, SweepTable table) {
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

  private static void perModel(Doc doc, SimResult e, ModelTable table) {
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

  private static void assumptions(Doc doc, Row rec, ModelTable table, Input in) {
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

  // ---- residency ----

  private static List<Charts.Residence> residency(Sweep sweep, Configuration.Resolved resolved) {
    Map<String, Long> since = new HashMap<>();
    List<Charts.Residence> stays = new ArrayList<>();
    Simulation simulation = new Simulation(resolved.settings(), sweep.table(), resolved.host(), SizeRange.Estimate.EXPECTED,
        sweep.ramLineOf(resolved));
    simulation.onDecision((now, event) -> {
      if (event instanceof CacheEvent.LoadStarted s) {
        since.put(s.model(), now);
      } else if (event instanceof CacheEvent.Evicted e) {
        Long from = since.remove(e.model());
        if (from != null) {
          stays.add(new Charts.Residence(e.model(), from, now));
        }
      }
    });
    SimResult result = simulation.run(sweep.trace().replay());
    since.forEach((model, from) -> stays.add(new Charts.Residence(model, from, result.endNanos())));
    stays.sort(java.util.Comparator.comparingLong(Charts.Residence::fromNanos).thenComparing(Charts.Residence::model));
    return stays;
  }

  // ---- words ----

  static List<String> changedFromDefaults(Settings settings, Settings defaults) {
    List<String> changes = new ArrayList<>();
    Map<String, String> d = defaults.toEnv();
    settings.toEnv().forEach((k, v) -> {
      if (!v.equals(d.get(k))) {
        changes.add(k + "=" + (v.isEmpty() ? "''" : v));
      }
    });
    return changes;
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
