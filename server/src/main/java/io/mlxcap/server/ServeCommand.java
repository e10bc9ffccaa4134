package io.mlxcap.server;

import io.mlxcap.ByteSize;
import io.mlxcap.Durations;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.host.ServerMetrics;
import io.mlxcap.server.http.ApiServer;
import io.mlxcap.server.model.DjlEngine;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap serve}: the reference server. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve the models in --models-dir (built by synth-models) over OpenAI- and Ollama-compatible HTTP, "
        + "holding them in the shared cache core under the --policy settings of the environment (MLX_* by default), and record every "
        + "request as a v1 trace. On SIGTERM or Ctrl-C it drains: new requests get 503, requests in flight get"
        + " --drain to finish, the rest are cancelled and recorded so, and the trace gets its end line.%n%n"
        + "Environment: the settings of --policy (MLX_* for mlx, OLLAMA_* for ollama, models-max etc. for llama-router "
        + "and auto-evict etc. for lmstudio, by those names; README lists them); MLX_API_KEY, a key every endpoint"
        + " but /health then wants as Authorization: Bearer <key> (empty or unset: no key); MLX_ALLOWED_ORIGINS,"
        + " comma-separated browser origins allowed beyond loopback (* for any), like Ollama's OLLAMA_ORIGINS.")
final class ServeCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--models-dir", required = true, paramLabel = "DIR", description = "Models and their models.json.")
  Path modelsDir;

  @Option(names = "--policy", defaultValue = "mlx", paramLabel = "NAME",
      description = "Whose server's rules to run and read from the environment: mlx (the MLX_* settings), mlx-seed "
          + "(the seed's three MLX_* variables and its 95%% rule), ollama (OLLAMA_MAX_LOADED_MODELS, OLLAMA_KEEP_ALIVE, "
          + "OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE; the idle model with the shortest keep-alive goes first), llama-router "
          + "(llama-server's models-max, sleep-idle-seconds, parallel; the model whose latest request started first goes)"
          + ", lmstudio (auto-evict, idle-ttl, max-concurrent-predictions, lms-load; one model loaded on demand, the "
          + "lms-load ones kept; OpenAI requests may carry LM Studio's ttl), llama-swap (groups, globalTTL, "
          + "concurrencyLimit; past it a request gets 429) or localai (the LOCALAI_* variables of its loader and "
          + "watchdog, and pinned: a load waits for busy models, then goes past LOCALAI_MAX_ACTIVE_BACKENDS). The trace header records that policy's "
          + "settings, so validate replays the same policy. Default: ${DEFAULT-VALUE}.")
  String policy;

  @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDRESS", description = "Address to bind. Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(names = "--port", defaultValue = "11435", paramLabel = "PORT", description = "Port (0 picks a free one). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--trace", paramLabel = "FILE", description = "Record the trace here. Default: traces/recorded/serve-<time>.jsonl.")
  Path trace;

  @Option(names = "--memory-sample", defaultValue = "5s", paramLabel = "DURATION",
      description = "How often to record a memory sample, e.g. 500ms, 5s or 1m (0s for only at loads and evictions). Default: ${DEFAULT-VALUE}.")
  String memorySample;

  @Option(names = "--max-body", defaultValue = "1MiB", paramLabel = "SIZE", description = "Largest request body. Default: ${DEFAULT-VALUE}.")
  String maxBody;

  @Option(names = "--drain", defaultValue = "30s", paramLabel = "DURATION",
      description = "On SIGTERM, how long requests in flight get to finish before they are cancelled, e.g. 30s or 0s. Default: ${DEFAULT-VALUE}.")
  String drain;

  @Override
  public void run() {
    Duration sample = Durations.parse("--memory-sample", memorySample);
    Duration grace = Durations.parse("--drain", drain);
    long bodyLimit = parseSize(maxBody);
    ModelTable models = io.mlxcap.server.model.SynthModelFile.tableOf(modelsDir);
    Map<String, String> env = System.getenv();
    io.mlxcap.settings.ServerPolicy serverPolicy = io.mlxcap.settings.ServerPolicy.named(policy);
    Settings settings = Settings.fromEnv(serverPolicy, env, models);
    settings.warnings(env).forEach(w -> spec.commandLine().getErr().println("mlxcap: warning: " + w));
    for (String v : new java.util.TreeSet<>(env.keySet())) {
      io.mlxcap.settings.ServerPolicy.owning(v).filter(owner -> !serverPolicy.reads(v))
          .ifPresent(owner -> spec.commandLine().getErr().println("mlxcap: warning: " + v + " is set but policy "
              + serverPolicy.id() + " does not read it (it is " + owner.id() + "'s); it is ignored."));
    }
    Path traceFile = trace != null ? trace : Path.of("traces/recorded/serve-"
        + java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".jsonl");
    try {
      Files.createDirectories(traceFile.toAbsolutePath().getParent());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot create " + traceFile.getParent() + ": " + e.getMessage(), e);
    }
    DjlEngine.start(Path.of(System.getProperty("mlxcap.djlCache", ".cache/djl")));
    ModelHost host = new ModelHost(settings, models, modelsDir, Ticker.system(), traceFile, new ServerMetrics());
    ApiServer api = new ApiServer(host, new ApiServer.Options(bind, port, apiKey(env, spec.commandLine().getErr()), bodyLimit,
        origins(env)));
    Thread shutdown = new Thread(() -> {
      // Drain first, with HTTP still up so requests in flight can finish their answers; then stop.
      int cancelled = host.drain(grace);
      if (cancelled > 0) {
        spec.commandLine().getErr().printf("mlxcap serve: cancelled %d requests still running after --drain %s%n", cancelled,
            drain);
        spec.commandLine().getErr().flush();
      }
      api.close();
      host.close();
    }, "mlxcap-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    host.warnings().forEach(w -> spec.commandLine().getErr().println("mlxcap: warning: " + w));
    host.start(sample);
    int actual;
    try {
      actual = api.start();
    } catch (RuntimeException e) {
      // Nothing was served: stop the host now, not at exit (and not twice).
      Runtime.getRuntime().removeShutdownHook(shutdown);
      api.close();
      host.close();
      throw e;
    }
    spec.commandLine().getOut().printf("mlxcap serve: listening on http://%s:%d, %d models, recording %s%n", bind, actual,
        models.models().size(), traceFile);
    spec.commandLine().getOut().flush();
  }

  /** MLX_API_KEY: empty means no key, like every other variable, with a warning since it may be a mistake. */
  static String apiKey(Map<String, String> env, java.io.PrintWriter err) {
    String key = env.get("MLX_API_KEY");
    if (key != null && key.isBlank()) {
      err.println("mlxcap: warning: MLX_API_KEY is set but empty: no API key is required");
      return null;
    }
    return key;
  }

  /** MLX_ALLOWED_ORIGINS, comma-separated. */
  static java.util.List<String> origins(Map<String, String> env) {
    String value = env.getOrDefault("MLX_ALLOWED_ORIGINS", "");
    return java.util.Arrays.stream(value.split(",")).map(String::strip).filter(v -> !v.isEmpty()).toList();
  }

  static long parseSize(String text) {
    try {
      long bytes = ByteSize.parse(text);
      if (bytes > 0) {
        return bytes;
      }
      throw new IllegalArgumentException("must be more than 0 bytes");
    } catch (IllegalArgumentException e) {
      throw new io.mlxcap.InvalidInputException("--max-body '" + text + "': " + e.getMessage());
    }
  }
}
