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
    description = "Run a sweep (see mlxcap sweep --help; without --grid, the policy's default grid: for mlx "
        + "MLX_MAX_CACHED_MODELS 1 to the number of models (at most 6), MLX_MAX_CACHE_BYTES off and 40/60/80 %% of the "
        + "budget, MLX_MODEL_IDLE_TTL_SEC off and 900; README lists the others) and write a what-if report: the "
        + "recommendation in plain words and in the server's own terms, what the next trade-off buys, the seed note's "
        + "advice scored on the trace (mlx), five charts (RSS over time, the Pareto front, cold-start waits, loads vs the "
        + "cap where the cap is plain LRU, which model was resident when), the tables behind them, and the command that "
        + "reproduces it. With --policy A,B,... the report is A's and compares the servers: each one's best settings "
        + "within the budget on the same traffic, side by side. Writes index.html (self-contained: opens from disk), "
        + "report.md with the PNG charts beside it, sweep.csv and sweep.json.")
final class ReportCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin SweepOptions options;

  @Option(names = "--policy", paramLabel = "NAME[,NAME...]", split = ",",
      description = "Whose server the report is for (mlx, mlx-seed, ollama, llama-router, lmstudio, llama-swap, localai; see sweep --help); "
          + "--grid and --set take the first one's names. More than one: the others run their default grids on the "
          + "same trace, host and budget, and the report compares each server's best. Default: the policy that recorded "
          + "the trace, else mlx.")
  List<String> policies = new ArrayList<>();

  @Option(names = {"-o", "--out"}, paramLabel = "DIR",
      description = "Where to write the report (replaced as a whole). Default: mlxcap-out/report/<trace name>.")
  Path out;

  @Override
  public void run() {
    PrintWriter stdout = spec.commandLine().getOut();
    PolicyOption first = new PolicyOption();
    first.name = policies.isEmpty() ? null : policies.get(0);
    List<io.mlxcap.settings.ServerPolicy> others = new ArrayList<>();
    for (String p : policies.subList(Math.min(1, policies.size()), policies.size())) {
      io.mlxcap.settings.ServerPolicy policy = io.mlxcap.settings.ServerPolicy.named(p);
      if (!others.contains(policy) && !p.equals(first.name)) {
        others.add(policy);
      }
    }
    PrintWriter err = spec.commandLine().getErr();
    SweepOptions.Plan plan = options.plan(err, ReportCommand::defaultGrid, first);
    others.remove(plan.sweep().policy());
    List<CapacityReport.Rival> rivals = new ArrayList<>();
    for (io.mlxcap.settings.ServerPolicy policy : others) {
      SweepOptions.Plan p = options.planOf(err, ReportCommand::defaultGrid, policy);
      rivals.add(new CapacityReport.Rival(p.sweep(), p.grid().configurations()));
    }
    String name = traceName(options.trace);
    Path dir = out != null ? out : Path.of("mlxcap-out", "report", name);
    List<Configuration> grid = plan.grid().configurations();
    String command = SweepOptions.commandLine("report", spec.commandLine().getParseResult().originalArgs());
    String source = plan.sweep().trace().header().source().orElse("source not recorded");
    CapacityReport.Output report;
    int rivalRuns = rivals.stream().mapToInt(r -> r.grid().size()).sum();
    try (SweepOptions.Progress progress = SweepOptions.progress("report", grid.size() + rivalRuns + 6)) {
      report = CapacityReport.build(new CapacityReport.Input(name, source, plan.sweep(), grid, command, rivals),
          options.threads(), progress);
    }
    OutputFolder.replace(dir, report.files(), "index.html");
    stdout.printf(Locale.ROOT, "trace          %s: %,d requests; %,d configurations, %d skipped%n", options.trace,
        plan.sweep().trace().size(), report.table().rows().size(), report.table().skipped().size());
    stdout.printf(Locale.ROOT, "recommended    %s%s%n", plan.sweep().policy() == io.mlxcap.settings.ServerPolicy.MLX ? ""
        : "policy " + plan.sweep().policy().id() + ": ", report.recommended().configuration().label());
    stdout.printf(Locale.ROOT, "               peak RSS %s (high %s) within %s; %,d cold start(s)%n",
        ByteSize.format(report.recommended().peak().expected()), ByteSize.format(report.recommended().peak().high()),
        ByteSize.format(report.recommended().budgetBytes()), report.recommended().coldStarts());
    stdout.println("report         " + dir.resolve("index.html") + " (and report.md, charts, sweep.csv, sweep.json)");
  }

  /**
   * The grid a report runs for {@code policy} when none is given: its cap from one to the number of
   * models, and its other one or two levers at values its users choose between. For mlx: byte budgets
   * as shares of the budget and the idle TTL off and on; for the seed's server the cap alone (its other
   * two variables only matter with a preload list longer than the cap); Ollama's keep-alive 5m, 30m,
   * forever; llama-server's sleep off, 5 and 15 min; LM Studio's Auto-Evict on and off with idle TTLs of
   * 5 min, 60 min (its default) and off; LocalAI's limit with size-aware eviction and the idle watchdog
   * (15 min) each off and on.
   */
  static List<Axis> defaultGrid(io.mlxcap.settings.ServerPolicy policy, HostProfile host, io.mlxcap.model.ModelTable table,
      java.util.OptionalLong givenBudget) {
    List<Axis> axes = new ArrayList<>();
    int cap = Math.max(1, Math.min(6, table.models().size()));
    switch (policy) {
      case MLX -> { }
      case MLX_SEED -> {
        return List.of(Axis.parse("MLX_MAX_CACHED_MODELS=1.." + cap));
      }
      case OLLAMA -> {
        return List.of(Axis.parse("OLLAMA_MAX_LOADED_MODELS=1.." + cap), Axis.parse("OLLAMA_KEEP_ALIVE=5m,30m,-1"));
      }
      case LLAMA_ROUTER -> {
        return List.of(Axis.parse("models-max=1.." + cap), Axis.parse("sleep-idle-seconds=-1,300,900"));
      }
      case LLAMA_SWAP -> {
        // Its groups are a layout, not a number: a report varies the TTL (set groups with --set).
        return List.of(Axis.parse("globalTTL=0,300,900"));
      }
      case LMSTUDIO -> {
        return List.of(Axis.parse("auto-evict=on,off"), Axis.parse("idle-ttl=5m,60m,off"));
      }
      case LOCALAI -> {
        return List.of(Axis.parse("LOCALAI_MAX_ACTIVE_BACKENDS=1.." + cap), Axis.parse("LOCALAI_SIZE_AWARE_EVICTION=false,true"),
            Axis.parse("LOCALAI_WATCHDOG_IDLE=false,true"));
      }
    }
    long budget = givenBudget.orElse(Prediction.defaultRamLine(host));
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
