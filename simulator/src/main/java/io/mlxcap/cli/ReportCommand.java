package io.mlxcap.cli;

import io.mlxcap.ByteSize;
import io.mlxcap.report.CapacityReport;
import io.mlxcap.report.OutputFolder;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sweep.Axis;
import io.mlxcap.sweep.Configuration;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mlxcap report}: the sweep, written up for people: recommendation, charts, one HTML page. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Run a sweep (see mlxcap sweep --help; without --grid: MLX_MAX_CACHED_MODELS 1 to the number of models "
        + "(at most 6), MLX_MAX_CACHE_BYTES off and 40/60/80 %% of the budget, MLX_MODEL_IDLE_TTL_SEC off and 900) and "
        + "write a what-if report: the recommendation in plain words and what the next trade-off buys, the seed note's "
        + "advice scored on the trace, five charts (RSS over time, the Pareto front, cold-start waits, loads vs the cap, "
        + "which model was resident when), the tables behind them, and the command that reproduces it. Writes "
        + "index.html (self-contained: opens from disk), report.md with the PNG charts beside it, sweep.csv and sweep.json.")
final class ReportCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin SweepOptions options;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR",
      description = "Where to write the report (replaced as a whole). Default: mlxcap-out/report/<trace name>.")
  Path out;

  @Override
  public void run() {
    PrintWriter stdout = spec.commandLine().getOut();
    SweepOptions.Plan plan = options.plan(spec.commandLine().getErr(), this::defaultGrid);
    String name = traceName(options.trace);
    Path dir = out != null ? out : Path.of("mlxcap-out", "report", name);
    List<Configuration> grid = plan.grid().configurations();
    String command = SweepOptions.commandLine("report", spec.commandLine().getParseResult().originalArgs());
    String source = plan.sweep().trace().header().source().orElse("source not recorded");
    CapacityReport.Output report;
    try (SweepOptions.Progress progress = SweepOptions.progress("report", grid.size() + 6)) {
      report = CapacityReport.build(new CapacityReport.Input(name, source, plan.sweep(), grid, command), options.threads(),
          progress);
    }
    OutputFolder.replace(dir, report.files(), "index.html");
    stdout.printf(Locale.ROOT, "trace          %s: %,d requests; %,d configurations, %d skipped%n", options.trace,
        plan.sweep().trace().size(), report.table().rows().size(), report.table().skipped().size());
    stdout.printf(Locale.ROOT, "recommended    %s%n", report.recommended().configuration().label());
    stdout.printf(Locale.ROOT, "               peak RSS %s (high %s) within %s; %,d cold start(s)%n",
        ByteSize.format(report.recommended().peak().expected()), ByteSize.format(report.recommended().peak().high()),
        ByteSize.format(report.recommended().budgetBytes()), report.recommended().coldStarts());
    stdout.println("report         " + dir.resolve("index.html") + " (and report.md, charts, sweep.csv, sweep.json)");
  }

  /** The grid a report runs when none is given: caps, byte budgets as shares of the budget, idle TTL off and on. */
  private List<Axis> defaultGrid(HostProfile host, io.mlxcap.model.ModelTable table, java.util.OptionalLong givenBudget) {
    List<Axis> axes = new ArrayList<>();
    long budget = givenBudget.orElse(Prediction.defaultRamLine(host));
    int cap = Math.max(1, Math.min(6, table.models().size()));
    axes.add(Axis.parse("MLX_MAX_CACHED_MODELS=1.." + cap));
    long gib = 1L << 30;
    StringBuilder budgets = new StringBuilder("MLX_MAX_CACHE_BYTES=off");
    for (int percent : new int[] {40, 60, 80}) {
      long bytes = budget * percent / 100 / gib;
      if (bytes > 0) {
        budgets.append(',').append(bytes).append("GiB");
      }
    }
    axes.add(Axis.parse(budgets.toString()));
    axes.add(Axis.parse("MLX_MODEL_IDLE_TTL_SEC=off,900"));
    return axes;
  }

  /** The trace's file name without its extensions: seed-scenario for traces/samples/seed-scenario.jsonl. */
  static String traceName(Path trace) {
    String file = trace.getFileName().toString();
    int dot = file.indexOf('.');
    return dot > 0 ? file.substring(0, dot) : file;
  }
}
