package io.mlxcap.cli;

import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.ServerPolicy;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sim.RequestSource;
import io.mlxcap.sim.SimulationReport;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap simulate}: one configuration, one trace, the predicted memory and waits. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = "Replay a trace through the cache core in virtual time under a server's settings (MLX_* unless --policy says) and predict peak RSS "
        + "(low / expected / high from the model size ranges), time-weighted mean RSS, time above a RAM line, "
        + "loads and evictions by reason, cold-start waits and request latency. Settings start from the trace's "
        + "header (or the defaults) and --set overrides them. A trace the server recorded replays with the service "
        + "time each request took; others use the model table's prefill and decode rates. Prints a summary and "
        + "writes summary.json, models.csv and timeline.csv.")
final class SimulateCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", required = true, paramLabel = "FILE", description = "A v1 trace.")
  Path trace;

  @Option(names = "--set", paramLabel = "VAR=VALUE",
      description = "A setting for this run in the policy's own names, e.g. --set MLX_MAX_CACHED_MODELS=3 or, with "
          + "--policy ollama, --set OLLAMA_KEEP_ALIVE=30m; repeat for more.")
  Map<String, String> overrides = new LinkedHashMap<>();

  @CommandLine.Mixin PolicyOption policy;

  @Option(names = "--models", paramLabel = "FILE", description = "Model table JSON. Default: the trace's own, else the seed's four models.")
  Path models;

  @CommandLine.Mixin HostOptions hostOptions;

  @Option(names = {"-o", "--out"}, defaultValue = "mlxcap-out/simulate", paramLabel = "DIR",
      description = "Where to write summary.json, models.csv and timeline.csv. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--lenient", description = "Skip malformed trace lines instead of stopping at the first.")
  boolean lenient;

  @Override
  public void run() {
    PrintWriter stdout = spec.commandLine().getOut();
    TraceReader.Mode mode = lenient ? TraceReader.Mode.LENIENT : TraceReader.Mode.STRICT;
    TraceHeader header;
    try (TraceReader reader = TraceReader.open(trace, mode)) {
      header = reader.header();
    }
    ModelTable table = hostOptions.models(models != null ? ModelTable.load(models) : header.models().orElse(ModelTable.defaults()));
    Settings settings = settingsFor(policy.policy(header.settings()), header, overrides, table, spec.commandLine().getErr());
    HostProfile host = hostOptions.profile();
    Prediction.Read read = Prediction.read(settings, table, host, hostOptions.ramLine(host), trace, mode);
    Prediction prediction = read.prediction();
    if (read.recordedServiceTimes() > 0) {
      stdout.printf("service        the recorded service time of %d served requests (request_done lines)%n",
          read.recordedServiceTimes());
    }
    SimulationReport report = new SimulationReport(trace.toString(), prediction);
    report.printSummary(stdout);
    List<Path> files = report.write(out);
    stdout.println("wrote          " + String.join(", ", files.stream().map(Path::toString).toList()));
  }

  /** The settings of {@code recorded} that {@code policy} reads (mlx keeps every one, so a typo gets its warning). */
  static Map<String, String> ownSettings(ServerPolicy policy, Map<String, String> recorded) {
    Map<String, String> env = new LinkedHashMap<>();
    recorded.forEach((k, v) -> {
      if (policy == ServerPolicy.MLX || policy.reads(k)) {
        env.put(k, v);
      }
    });
    return env;
  }

  /** {@link #settingsFor(ServerPolicy, TraceHeader, Map, ModelTable, PrintWriter)} for mlx. */
  static Settings settingsFor(TraceHeader header, Map<String, String> overrides, ModelTable table, PrintWriter err) {
    return settingsFor(ServerPolicy.MLX, header, overrides, table, err);
  }

  /**
   * The trace's own settings that {@code policy} has (or its defaults) with {@code overrides} on top,
   * read once so that an override replaces a value before it is checked; a name the policy does not
   * have is refused (naming the policy that has it), and warnings (a default preload the table lacks,
   * a preload list past the cap) go to {@code err}.
   */
  static Settings settingsFor(ServerPolicy policy, TraceHeader header, Map<String, String> overrides, ModelTable table,
      PrintWriter err) {
    overrides.keySet().forEach(name -> policy.check("--set", name));
    Map<String, String> env = ownSettings(policy, header.settings());
    env.putAll(overrides);
    Settings settings = Settings.fromEnv(policy, env, table);
    settings.warnings(env).forEach(w -> err.println("mlxcap: note: " + w));
    err.flush();
    return settings;
  }
}
