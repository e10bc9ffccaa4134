package io.mlxcap.cli;

import io.mlxcap.ByteSize;
import io.mlxcap.report.CapacityReport;
import io.mlxcap.report.OutputFolder;
import io.mlxcap.settings.Settings;
import io.mlxcap.sweep.Configuration;
import io.mlxcap.sweep.Row;
import io.mlxcap.sweep.Sweep;
import io.mlxcap.sweep.SweepTable;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mlxcap sweep}: a grid of settings over one trace, in parallel, with the Pareto front and a recommendation. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "Simulate every combination of a grid of settings (MLX_*, or those of --policy) and host parameters over one trace (read once, "
        + "shared by every thread), each with its low / expected / high passes, through the same simulation as simulate. "
        + "Marks the Pareto front of peak RSS (high bound) against cold-start p95 and against loads per hour, and "
        + "recommends the configuration with the fewest cold starts whose high peak stays within the budget. A "
        + "combination the settings refuse is skipped and listed. Writes sweep.csv and sweep.json; the same inputs give "
        + "the same bytes whatever the thread count. Example: --grid MLX_MAX_CACHED_MODELS=1..4 "
        + "--grid MLX_MAX_CACHE_BYTES=off,48GiB,64GiB --host-ram 64GiB,128GiB; with --policy ollama, e.g. --grid OLLAMA_MAX_LOADED_MODELS=1..4 "
        + "--grid OLLAMA_KEEP_ALIVE=0,5m,30m,-1")
final class SweepCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin SweepOptions options;

  @Mixin PolicyOption policy;

  @Option(names = {"-o", "--out"}, defaultValue = "mlxcap-out/sweep", paramLabel = "DIR",
      description = "Where to write sweep.csv and sweep.json (replaced as a whole). Default: ${DEFAULT-VALUE}.")
  Path out;

  @Override
  public void run() {
    PrintWriter stdout = spec.commandLine().getOut();
    SweepOptions.Plan plan = options.plan(spec.commandLine().getErr(), null, policy);
    List<Configuration> configurations = plan.grid().configurations();
    List<Sweep.Outcome> outcomes;
    try (SweepOptions.Progress progress = SweepOptions.progress("sweep", configurations.size())) {
      outcomes = plan.sweep().run(configurations, options.threads(), progress);
    }
    SweepTable table = new SweepTable(outcomes, Settings.fromEnv(plan.sweep().policy(), Map.of(), plan.table()));
    String command = SweepOptions.commandLine("sweep", spec.commandLine().getParseResult().originalArgs());
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("sweep.csv", table.csv().getBytes(StandardCharsets.UTF_8));
    files.put("sweep.json", table.json(io.mlxcap.sim.Ordered.map("trace", options.trace.toString(), "command", command))
        .getBytes(StandardCharsets.UTF_8));
    Row rec = table.recommended().orElseThrow(() -> CapacityReport.noneFits(table));
    List<Path> written = OutputFolder.replace(out, files, "sweep.csv");
    stdout.printf(Locale.ROOT, "trace          %s: %,d requests; %,d configurations simulated, %d skipped%n",
        options.trace, plan.sweep().trace().size(), table.rows().size(), table.skipped().size());
    for (Sweep.Outcome o : table.skipped()) {
      stdout.printf("skipped        %s: %s%n", o.configuration().label(), o.skipped().orElse(""));
    }
    long onFront = java.util.stream.IntStream.range(0, table.rows().size()).filter(table::onColdP95Front).count();
    stdout.printf(Locale.ROOT, "pareto         %d configurations on the front of peak RSS (high) vs cold-start p95%n", onFront);
    stdout.printf(Locale.ROOT, "recommended    %s%n", rec.configuration().label());
    stdout.printf(Locale.ROOT, "               peak RSS %s (low %s, high %s) within %s; %,d cold starts, p95 %.2f s%n",
        ByteSize.format(rec.peak().expected()), ByteSize.format(rec.peak().low()), ByteSize.format(rec.peak().high()),
        ByteSize.format(rec.budgetBytes()), rec.coldStarts(), rec.coldP95() / 1e9);
    stdout.println("wrote          " + String.join(", ", written.stream().map(Path::toString).toList()));
  }
}
