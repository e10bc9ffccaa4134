package io.mlxcap.cli;

import io.mlxcap.InvalidInputException;
import io.mlxcap.drive.Driver;
import io.mlxcap.trace.TraceEvent;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap drive}: a trace's arrivals sent to a live server. */
@Command(name = "drive", mixinStandardHelpOptions = true,
    description = "Replay a trace's arrivals against a live OpenAI- or Ollama-compatible server (mlxcap serve, Ollama, "
        + "the seed's MLX server), open loop: each request is sent at its time, divided by --speedup, whether or not "
        + "earlier ones have answered, with the trace's model, a prompt of its prompt length and its output length as "
        + "max_tokens (num_predict), streamed. Prints what the client saw: sent, ok, errors by status, latency and "
        + "time-to-first-byte percentiles, how far behind schedule sending fell. A bad URL, a server that is down or "
        + "lacks a model of the trace: one sentence, exit 2. A server that stops answering midway: the summary so "
        + "far, exit 74.")
final class DriveCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", required = true, paramLabel = "FILE", description = "A v1 trace; its request lines are sent.")
  Path trace;

  @Option(names = "--url", required = true, paramLabel = "URL", description = "The server, e.g. http://127.0.0.1:11435.")
  String url;

  @Option(names = "--api", defaultValue = "openai", paramLabel = "API",
      description = "openai (POST /v1/completions) or ollama (POST /api/generate, with keep_alive from the trace). Default: ${DEFAULT-VALUE}.")
  String api;

  @Option(names = "--speedup", defaultValue = "1", paramLabel = "X",
      description = "Divide the trace's inter-arrival times by X (10 sends an hour in 6 minutes). Default: ${DEFAULT-VALUE}.")
  double speedup;

  @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Send only the first N requests (0: all). Default: ${DEFAULT-VALUE}.")
  long limit;

  @Option(names = "--chars-per-token", defaultValue = "1", paramLabel = "N",
      description = "Characters of prompt per token of the trace: 1 for mlxcap's byte-level models, about 4 for real "
          + "tokenizers. Default: ${DEFAULT-VALUE}.")
  int charsPerToken;

  @Option(names = "--api-key", paramLabel = "KEY", description = "Sent as Authorization: Bearer KEY. Default: $MLX_API_KEY, if set.")
  String apiKey;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE",
      description = "Also write what the client saw as a v1 trace (request and request_done lines, client times).")
  Path out;

  @Override
  public void run() {
    Driver.Api which = switch (api.toLowerCase(Locale.ROOT)) {
      case "openai" -> Driver.Api.OPENAI;
      case "ollama" -> Driver.Api.OLLAMA;
      default -> throw new InvalidInputException("--api must be openai or ollama, was '" + api + "'");
    };
    URI base;
    try {
      base = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("--url '" + url + "' is not a URL: " + e.getMessage());
    }
    String key = apiKey != null ? apiKey : System.getenv("MLX_API_KEY");
    Driver driver = new Driver(new Driver.Options(base, which, speedup, limit, key, charsPerToken, out));
    List<TraceEvent.Request> requests = driver.requests(trace);
    driver.check(requests);
    PrintWriter o = spec.commandLine().getOut();
    double span = (requests.get(requests.size() - 1).timeNanos() - requests.get(0).timeNanos()) / 1e9;
    o.printf(Locale.ROOT, "drive         %s -> %s (%s): %d requests over %.1f s of trace, sent in about %.1f s%n", trace, base,
        which.name().toLowerCase(Locale.ROOT), requests.size(), span, span / speedup);
    o.flush();
    Driver.Summary summary;
    try (SweepOptions.Progress progress = SweepOptions.progress("drive", requests.size())) {
      summary = driver.run(requests, progress);
    }
    Driver.describe(summary).forEach(o::println);
    if (out != null) {
      o.println("wrote         " + out);
    }
    o.flush();
    if (summary.serverDown()) {
      throw Driver.serverDown(base);
    }
  }
}
