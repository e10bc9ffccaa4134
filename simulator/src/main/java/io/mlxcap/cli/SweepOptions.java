package io.mlxcap.cli;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.sim.HostParameter;
import io.mlxcap.sim.RequestSource;
import io.mlxcap.sweep.Axis;
import io.mlxcap.sweep.Grid;
import io.mlxcap.sweep.Sweep;
import io.mlxcap.trace.TraceReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.IntConsumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What {@code sweep} and {@code report} share: the trace, the grid, the host, the budget, the threads. */
final class SweepOptions {
  @Option(names = "--trace", required = true, paramLabel = "FILE", description = "A v1 trace; read once into memory.")
  Path trace;

  @Option(names = "--grid", paramLabel = "NAME=VALUES",
      description = "An axis: a setting of the policy (MLX_* for mlx) or a host parameter (host-ram, host-other, runtime-base, load-bandwidth, "
          + "load-overhead, load-transient, load-growth) and its values, comma-separated; whole-number ranges like 1..8. "
          + "MLX_PRELOAD_MODELS values are separated by ';' (an empty value is no preload). Repeat for more axes.")
  List<String> grid = new ArrayList<>();

  @Option(names = "--set", paramLabel = "NAME=VALUE",
      description = "A setting of the policy for every configuration (on top of the trace's own), e.g. --set MLX_MAX_CONCURRENT_REQUESTS=2.")
  Map<String, String> overrides = new LinkedHashMap<>();

  @Option(names = "--models", paramLabel = "FILE", description = "Model table JSON. Default: the trace's own, else the seed's four models.")
  Path models;

  @Mixin HostOptions hostOptions;

  @Option(names = "--budget", paramLabel = "SIZE",
      description = "RAM the server may use: the recommendation's peak (high bound) stays under it. Default: host RAM minus --host-other.")
  String budget;

  @Option(names = "--threads", paramLabel = "N", description = "Threads that run configurations. Default: the machine's cores.")
  Integer threads;

  @Option(names = "--force", description = "Run a grid of more than 100,000 configurations.")
  boolean force;

  @Option(names = "--lenient", description = "Skip malformed trace lines instead of stopping at the first.")
  boolean lenient;

  /** The grid a command runs when no --grid is given, for the policy, from the base host, the table and the --budget given. */
  interface DefaultGrid {
    List<Axis> axes(io.mlxcap.settings.ServerPolicy policy, io.mlxcap.sim.HostProfile baseHost, ModelTable table,
        OptionalLong budget);
  }

  /** What the options describe, before anything runs. */
  record Plan(Sweep sweep, Grid grid, ModelTable table) {}

  /** Checks every option, reads the trace once, and builds the sweep; {@code defaultGrid} is used when no --grid is given. */
  Plan plan(PrintWriter err, DefaultGrid defaultGrid) {
    return plan(err, defaultGrid, null);
  }

  /** {@link #plan(PrintWriter, DefaultGrid)} for {@code policy}'s server: --set and --grid in its names. */
  Plan plan(PrintWriter err, DefaultGrid defaultGrid, PolicyOption policyOption) {
    return plan(err, defaultGrid, policyOption, grid, overrides);
  }

  /**
   * The plan of another server on the same trace, host and budget, for a report that compares servers:
   * {@code policy}'s default grid and the trace's settings that are its own; --grid and --set, written in
   * the first policy's names, are not its.
   */
  Plan planOf(PrintWriter err, DefaultGrid defaultGrid, io.mlxcap.settings.ServerPolicy policy) {
    PolicyOption fixed = new PolicyOption();
    fixed.name = policy.id();
    return plan(err, defaultGrid, fixed, List.of(), Map.of());
  }

  private Plan plan(PrintWriter err, DefaultGrid defaultGrid, PolicyOption policyOption, List<String> grid,
      Map<String, String> overrides) {
    List<Axis> axes = new ArrayList<>();
    for (String text : grid) {
      axes.add(Axis.parse(text));
    }
    Map<HostParameter, String> baseHost = new EnumMap<>(HostParameter.class);
    hostOptions.given().forEach((p, v) -> {
      if (v.contains(",")) {
        axes.add(Axis.ofHost(p, v));
      } else {
        baseHost.put(p, v);
      }
    });
    // A calibrated profile is the base host; what is given here still wins.
    io.mlxcap.sim.HostProfile baseProfile = hostOptions.calibrated().map(io.mlxcap.calibrate.Profile::host)
        .orElse(io.mlxcap.sim.HostProfile.DEFAULT);
    long ramLine = hostOptions.ramLine(-1);
    OptionalLong budgetBytes = budget == null ? OptionalLong.empty() : OptionalLong.of(size("--budget", budget));
    RequestSource.InMemory requests = RequestSource.InMemory.read(trace, lenient ? TraceReader.Mode.LENIENT : TraceReader.Mode.STRICT);
    ModelTable table = hostOptions.models(models != null ? ModelTable.load(models)
        : requests.header().models().orElse(ModelTable.defaults()));
    // The policy asked for, else the one that recorded the trace (mlx without a policy option at all).
    io.mlxcap.settings.ServerPolicy policy = policyOption == null ? io.mlxcap.settings.ServerPolicy.MLX
        : policyOption.policy(requests.header().settings());
    Map<String, String> base = SimulateCommand.ownSettings(policy, requests.header().settings());
    base.putAll(overrides);
    // The base alone must stand: a bad --set or a header the table cannot serve is the user's to fix.
    SimulateCommand.settingsFor(policy, io.mlxcap.trace.TraceHeader.empty(), base, table, err);
    if (axes.isEmpty() && defaultGrid != null) {
      axes.addAll(defaultGrid.axes(policy, HostParameter.profile(baseProfile, baseHost), table, budgetBytes));
    }
    Grid g = new Grid(axes, policy, table);
    g.checkSize(force);
    Sweep sweep = new Sweep(requests, table, base, baseHost, ramLine < 0 ? OptionalLong.empty() : OptionalLong.of(ramLine),
        budgetBytes, baseProfile, policy);
    return new Plan(sweep, g, table);
  }

  int threads() {
    int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (n < 1) {
      throw new InvalidInputException("--threads must be at least 1, was " + n);
    }
    return n;
  }

  private static long size(String option, String text) {
    try {
      return ByteSize.parse(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(option + " '" + text + "': " + e.getMessage());
    }
  }

  /** A progress bar on stderr when it is a terminal; silent otherwise. Close it when done. */
  static Progress progress(String task, int total) {
    if (System.console() == null || total < 2) {
      return new Progress(null);
    }
    ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
        .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(200).build();
    return new Progress(bar);
  }

  /** Steps a progress bar from any thread. */
  record Progress(ProgressBar bar) implements IntConsumer, AutoCloseable {
    @Override
    public void accept(int ignored) {
      if (bar != null) {
        bar.step();
      }
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
      }
    }
  }

  /**
   * The command line as given, to print in a report so it can be run again: without the options that
   * do not change what is written ({@code -o}, {@code --threads}), so the files do not depend on them.
   */
  static String commandLine(String command, List<String> args) {
    StringBuilder b = new StringBuilder("./mlxcap ").append(command);
    // picocli's original arguments start with the subcommand's own name.
    List<String> rest = args.isEmpty() || !args.get(0).equals(command) ? args : args.subList(1, args.size());
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      if (a.equals("-o") || a.equals("--out") || a.equals("--threads")) {
        i++;
        continue;
      }
      if (a.startsWith("-o=") || a.startsWith("--out=") || a.startsWith("--threads=")) {
        continue;
      }
      b.append(' ').append(a.isEmpty() || a.matches(".*[\\s'\"$;&|<>*?()].*") ? "'" + a.replace("'", "'\\''") + "'" : a);
    }
    return b.toString();
  }
}
