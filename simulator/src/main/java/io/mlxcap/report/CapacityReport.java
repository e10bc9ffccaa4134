package io.mlxcap.report;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CacheEvent;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.LruCurve;
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
  /** What a report is about; {@code rivals} are other servers to compare on the same traffic (none: no comparison). */
  public record Input(String traceName, String traceSource, Sweep sweep, List<Configuration> grid, String command,
      List<Rival> rivals) {
    public Input(String traceName, String traceSource, Sweep sweep, List<Configuration> grid, String command) {
      this(traceName, traceSource, sweep, grid, command, List.of());
    }
  }

  /** Another server's sweep of the same trace, host and budget, and its grid. */
  public record Rival(Sweep sweep, List<Configuration> grid) {}

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
    io.mlxcap.settings.ServerPolicy policy = sweep.policy();
    Settings defaults = Settings.fromEnv(policy, Map.of(), table);
    // The seed note's advice is in MLX_* settings: scored when the report is mlx's.
    List<Advice> advice = policy == io.mlxcap.settings.ServerPolicy.MLX ? Advice.all() : List.of();
    List<Configuration> all = new ArrayList<>(in.grid());
    advice.forEach(a -> all.add(a.configuration()));
    List<Sweep.Outcome> outcomes = sweep.run(all, threads, progress);
    // The seed's settings and advice compete with the grid: a reader should never see advice beat the recommendation.
    SweepTable table1 = new SweepTable(outcomes, defaults);
    List<Sweep.Outcome> adviceOutcomes = outcomes.subList(in.grid().size(), outcomes.size());
    Row rec = table1.recommended().orElseThrow(() -> noneFits(table1));

    Map<String, byte[]> files = new LinkedHashMap<>();
    Doc doc = new Doc();
    doc.heading(1, "What-if capacity report: " + in.traceName()
        + (policy == io.mlxcap.settings.ServerPolicy.MLX ? "" : " (" + serverName(policy) + ")"));
    // The recommendation's full prediction (timelines, histograms), made once for the words and the charts.
    io.mlxcap.sim.Prediction recommended = sweep.predict(rec.configuration());
    SimResult any = recommended.expected();
    doc.paragraph(String.format(Locale.ROOT, "%,d requests over %s (%s). %,d configurations of %s simulated (%s)%s,"
            + " each with every model at the low, expected and high end of its size range.",
        rec.requests(), Sections.span(any.endNanos()), in.traceSource(), table1.rows().size(), serverName(policy),
        advice.isEmpty() ? "its settings' grid" : "the grid and the seed note's " + advice.size() + " settings",
        table1.skipped().isEmpty() ? "" : "; " + table1.skipped().size() + " skipped, listed at the end"));

    Sections.recommendation(doc, rec, table1, defaults);
    if (!in.rivals().isEmpty()) {
      servers(doc, files, in, rec, defaults, threads, progress);
    }
    if (!advice.isEmpty()) {
      Sections.lesson(doc, rec, adviceOutcomes, table1.rows());
      Sections.adviceTable(doc, advice, adviceOutcomes, rec);
    }

    // Charts.
    List<Charts.Featured> featured = new ArrayList<>();
    for (int i = 0; i < advice.size(); i++) {
      String name = advice.get(i).name();
      if ((name.equals(Advice.BEFORE_THE_FIX) || name.equals(Advice.THE_FIX)) && adviceOutcomes.get(i).row().isPresent()) {
        featured.add(new Charts.Featured(name, sweep.predict(advice.get(i).configuration())));
      }
    }
    if (advice.isEmpty()) {
      featured.add(new Charts.Featured(policy.id() + "'s defaults", sweep.predict(Configuration.of(Map.of(), Map.of()))));
    }
    featured.add(new Charts.Featured("recommended", recommended));
    doc.heading(2, "Charts");
    chart(doc, files, "rss-over-time.png", Charts.rssOverTime(featured, rec.ramLineBytes()),
        (advice.isEmpty() ? "RSS over the trace under " + serverName(policy) + "'s defaults and the recommendation:"
            : "RSS over the trace under the seed's old settings, the fix's defaults and the recommendation:") + " the solid line"
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
    if (rec.settings().cache().isPlainLru()) {
      LruCurve.Result curve = LruCurve.compute(sweep.trace().replay(), rec.settings().preloadModels(), table);
      String preload = rec.settings().preloadModels().isEmpty() ? "none" : String.join(",", rec.settings().preloadModels());
      chart(doc, files, "loads-vs-cap.png", Charts.loadsVersusCap(curve, preload),
          "Model loads over the trace at every cap (" + policy.variables().get(0) + "), from one pass over LRU stack"
              + " distances (pure count-LRU with one worker; idle TTL, byte budget and pressure off). Where the curve"
              + " flattens, one more cached model stops paying for its memory.");
    } else {
      doc.paragraph("No loads-versus-cap chart: " + serverName(policy) + "'s cap does not take the least recently used"
          + " of all models, so the one-pass curve would not be exact; the Pareto table below has the loads of every"
          + " configuration simulated.");
    }
    Configuration.Resolved resolved = sweep.resolve(rec.configuration());
    List<Charts.Residence> stays = residency(sweep, resolved);
    List<String> models = table.models().stream().map(ModelSpec::name).toList();
    chart(doc, files, "residency.png", Charts.residency("the recommendation", models, stays, any.endNanos()),
        "Which model was loading or resident when under the recommendation (expected sizes): overlapping bars are"
            + " what the memory holds at once.");

    Sections.paretoTable(doc, table1);
    Sections.perModel(doc, recommended.expected(), table);
    Sections.assumptions(doc, rec, table, in);
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

  /** The server a policy stands for, as a reader knows it. */
  static String serverName(io.mlxcap.settings.ServerPolicy policy) {
    return switch (policy) {
      case MLX -> "mlxcap's MLX server";
      case MLX_SEED -> "the seed note's MLX server";
      case OLLAMA -> "Ollama";
      case LLAMA_ROUTER -> "llama.cpp's router";
      case LMSTUDIO -> "LM Studio";
      case LLAMA_SWAP -> "llama-swap";
      case LOCALAI -> "LocalAI";
    };
  }

  /**
   * The servers compared: each rival's sweep run, its best configuration within the same budget chosen by
   * the same rule, and one row per server (the report's own first) in the page and in servers.csv.
   */
  private static void servers(Doc doc, Map<String, byte[]> files, Input in, Row rec, Settings defaults, int threads,
      IntConsumer progress) {
    List<Row> best = new ArrayList<>();
    List<Settings> bases = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    best.add(rec);
    bases.add(defaults);
    notes.add("");
    for (Rival r : in.rivals()) {
      Settings d = Settings.fromEnv(r.sweep().policy(), Map.of(), r.sweep().table());
      SweepTable t = new SweepTable(r.sweep().run(r.grid(), threads, progress), d);
      java.util.Optional<Row> chosen = t.recommended();
      if (chosen.isPresent()) {
        best.add(chosen.get());
        notes.add("");
      } else if (!t.rows().isEmpty()) {
        Row closest = Recommendation.closest(t.rows()).orElseThrow();
        best.add(closest);
        notes.add("over the budget");
      } else {
        continue;
      }
      bases.add(d);
    }
    doc.heading(2, "Other servers on the same traffic");
    doc.paragraph(String.format(Locale.ROOT, "The same requests and models on each server, under that server's best"
        + " settings within the budget of **%s** (each from its own grid, chosen by the same rule as above). What"
        + " each server does and does not do is in README's \"Servers\" table.", Sections.gb(rec.budgetBytes())));
    List<List<String>> rows = new ArrayList<>();
    StringBuilder csv = new StringBuilder("policy,settings,within_budget,peak_rss_expected_bytes,peak_rss_high_bytes,"
        + "cold_starts,cold_wait_p95_s,latency_p95_s,loads,refused\n");
    for (int i = 0; i < best.size(); i++) {
      Row r = best.get(i);
      io.mlxcap.settings.ServerPolicy p = r.settings().policy();
      String set = Sections.setting(r.settings(), bases.get(i));
      rows.add(List.of(serverName(p) + " (`" + p.id() + "`)" + (notes.get(i).isEmpty() ? "" : ", " + notes.get(i)),
          "`" + set.replace("\n", "` `") + "`",
          Sections.gb(r.peak().expected()) + " (high " + Sections.gb(r.peak().high()) + ")",
          String.format(Locale.ROOT, "%,d", r.coldStarts()), Sections.secs(r.coldP95()), Sections.secs(r.latencyP95()),
          String.format(Locale.ROOT, "%,d", r.totalLoads()), String.format(Locale.ROOT, "%,d", r.refused())));
      csv.append(String.format(Locale.ROOT, "%s,\"%s\",%s,%d,%d,%d,%.6f,%.6f,%d,%d%n", p.id(), set.replace("\"", "\"\"")
              .replace("\n", "; "), r.fitsBudget(), r.peak().expected(), r.peak().high(), r.coldStarts(), r.coldP95() / 1e9,
          r.latencyP95() / 1e9, r.totalLoads(), r.refused()));
    }
    doc.table(List.of("server", "its best settings", "peak RSS", "cold starts", "cold wait p95", "latency p95", "loads",
        "refused"), rows, "Each server's best configuration; servers.csv beside this page has the same rows.");
    doc.paragraph(String.format(Locale.ROOT, "Requests served at once are each server's own (%s): mlxcap counts them"
            + " for the whole server, where Ollama, llama-server and LM Studio count them per model. Generations served together"
            + " slow each other by %.0f %% each on this host profile%s.",
        String.join(", ", best.stream().map(r -> r.settings().policy().id() + " "
            + (r.settings().maxConcurrentRequests() == Integer.MAX_VALUE ? "all it admits"
                : Integer.toString(r.settings().maxConcurrentRequests()))).toList()), 100 * rec.host().service().slowdownPerGeneration(),
        rec.host().service().slowdownPerGeneration() == 0
            ? " (none: a calibrated profile, `--profile`, measures it), so the latency of the servers with more at once"
                + " is a lower bound"
            : ""));
    Row fewest = best.stream().filter(Row::fitsBudget).min(java.util.Comparator.comparingLong(Row::refused)
        .thenComparingLong(Row::coldStarts).thenComparingLong(r -> r.peak().high())).orElse(rec);
    if (fewest != rec) {
      doc.paragraph(String.format(Locale.ROOT, "On this traffic %s at its best has **%,d cold starts against %,d** here"
              + " (%s peak, high bound), %s.", serverName(fewest.settings().policy()), fewest.coldStarts(), rec.coldStarts(),
          Sections.gb(fewest.peak().high()), fewest.refused() < rec.refused() ? "and refuses fewer requests"
              : "within the same budget"));
    } else {
      doc.paragraph(String.format(Locale.ROOT, "On this traffic no other server at its best does better than %s's"
          + " recommendation: fewest refusals, then fewest cold starts, then the lower peak.", serverName(rec.settings()
          .policy())));
    }
    files.put("servers.csv", csv.toString().getBytes(StandardCharsets.UTF_8));
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
        Sections.gb(closest.budgetBytes()), closest.configuration().label(), Sections.gb(closest.peak().high())));
  }

  private static void chart(Doc doc, Map<String, byte[]> files, String name, byte[] png, String caption) {
    files.put(name, png);
    doc.image(name, png, caption);
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

}
