package io.mlxcap.cli;

import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.LruCurve;
import io.mlxcap.sim.RequestSource;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap curve}: loads at every MLX_MAX_CACHED_MODELS in one pass. */
@Command(name = "curve", mixinStandardHelpOptions = true,
    description = "Loads (cold starts) for every MLX_MAX_CACHED_MODELS at once, in one pass over the trace, from LRU "
        + "stack distances. Exact for pure count-LRU with one worker and no refused requests (idle TTL, pressure, "
        + "byte budget and cleanup of a preload surplus off); MLX_PRELOAD_MODELS is taken from the trace or --set.")
final class CurveCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", required = true, paramLabel = "FILE", description = "A v1 trace.")
  Path trace;

  @Option(names = "--set", paramLabel = "MLX_VAR=VALUE", description = "A setting, e.g. --set MLX_PRELOAD_MODELS=.")
  Map<String, String> overrides = new LinkedHashMap<>();

  @Option(names = "--models", paramLabel = "FILE", description = "Model table JSON. Default: the trace's own, else the seed's four models.")
  Path models;

  @Override
  public void run() {
    TraceHeader header;
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      header = reader.header();
    }
    ModelTable table = models != null ? ModelTable.load(models) : header.models().orElse(ModelTable.defaults());
    io.mlxcap.settings.ServerPolicy recordedBy = io.mlxcap.settings.ServerPolicy.of(header.settings());
    io.mlxcap.cache.CachePolicy rules = Settings.fromEnv(recordedBy, header.settings(), table).cache();
    if (!rules.isPlainLru()) {
      // The one pass counts LRU stack distances over every model: exact only when the cap counts all
      // models and takes the least recently used.
      throw new io.mlxcap.InvalidInputException(trace + " was recorded under policy " + recordedBy.id()
          + ", whose cap does not take the least recently used of all models, and curve's one pass is exact only"
          + " for that; use sweep --policy " + recordedBy.id() + " --grid " + recordedBy.variables().get(0)
          + "=... instead.");
    }
    Settings settings = SimulateCommand.settingsFor(header, overrides, table, spec.commandLine().getErr());
    LruCurve.Result curve;
    try (RequestSource source = RequestSource.of(TraceReader.open(trace, TraceReader.Mode.STRICT))) {
      curve = LruCurve.compute(source, settings.preloadModels(), table);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT, "trace    %s: %,d requests; preload %s%n", trace, curve.requests(),
        settings.preloadModels().isEmpty() ? "none" : String.join(",", settings.preloadModels()));
    out.println("cap      loads   cold starts per 100 requests");
    for (int cap = 1; cap <= curve.maxCap(); cap++) {
      long loads = curve.loadsAt(cap);
      out.printf(Locale.ROOT, "%-6d %7d   %.2f%n", cap, loads, 100.0 * (loads - curve.preloaded()) / Math.max(1, curve.requests()));
    }
    if (settings.maxConcurrentRequests() > 1) {
      out.println("note     MLX_MAX_CONCURRENT_REQUESTS > 1: the curve assumes one worker and is an approximation here.");
    }
  }
}
