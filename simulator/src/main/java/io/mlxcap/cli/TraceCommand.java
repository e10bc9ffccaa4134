package io.mlxcap.cli;

import io.mlxcap.Durations;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mlxcap.stats.TraceStats;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mlxcap trace}: look into traces. */
@Command(name = "trace", mixinStandardHelpOptions = true, description = "Look into traces.",
    subcommands = {TraceCommand.Stats.class})
final class TraceCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "stats", mixinStandardHelpOptions = true,
      description = "Requests, models and their shares, span, mean and peak rate, inter-arrival CV (1 for Poisson, above 1 for bursty traffic), tokens, and the outcomes a recorded trace holds. One streaming pass.")
  static final class Stats implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "A v1 trace.")
    Path file;

    @Option(names = "--lenient", description = "Skip and count malformed lines instead of stopping at the first.")
    boolean lenient;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Override
    public void run() {
      TraceStats stats;
      try (TraceReader reader = TraceReader.open(file, lenient ? TraceReader.Mode.LENIENT : TraceReader.Mode.STRICT)) {
        stats = TraceStats.of(reader);
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        printJson(stats, out);
      } else {
        printTable(stats, out);
      }
    }

    private void printTable(TraceStats s, PrintWriter out) {
      TraceHeader h = s.header();
      out.printf(Locale.ROOT, "trace          %s%n", file);
      h.source().ifPresent(v -> out.printf("source         %s%n", v));
      h.startedAt().ifPresent(v -> out.printf("started at     %s%n", v));
      out.printf(Locale.ROOT, "requests       %d over %s%n", s.requests(), Durations.format(s.spanSeconds()));
      out.printf(Locale.ROOT, "mean rate      %.4f req/s (%.0f per hour)%n", s.meanPerSecond(), s.meanPerSecond() * 3600);
      out.printf(Locale.ROOT, "peak rate      %.4f req/s (%d requests in the busiest %s)%n", s.peakPerSecond(),
          s.peakInWindow(), s.peakWindowSeconds() == 60 ? "minute" : "second; the trace spans less than a minute");
      out.printf(Locale.ROOT, "inter-arrival  mean %s, CV %.2f%n", Durations.format(s.meanGapSeconds()), s.interArrivalCv());
      out.printf(Locale.ROOT, "tokens         prompt mean %s, output mean %s%s%n", mean(s.meanPromptTokens()),
          mean(s.meanOutputTokens()), s.outputFromOutcomes() ? " (produced, from request_done)" : "");
      out.println("models         as asked               requests   share  in the table");
      s.perModel().entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
          .forEach(e -> out.printf(Locale.ROOT, "               %-22s %9d  %5.1f %%  %s%n", e.getKey(), e.getValue(),
              100.0 * e.getValue() / s.requests(), s.canonical(e.getKey())));
      if (!s.loads().isEmpty() || !s.evictions().isEmpty() || !s.outcomes().isEmpty()) {
        out.printf("loads          %s%n", s.loads());
        out.printf("evictions      %s%n", s.evictions());
        out.printf("outcomes       %s%n", s.outcomes());
      }
      if (s.withoutOutcome() > 0) {
        out.printf(Locale.ROOT, "no outcome     %d request%s no outcome (trace ended without them)%n", s.withoutOutcome(),
            s.withoutOutcome() == 1 ? " has" : "s have");
      }
      if (!h.settings().isEmpty()) {
        out.printf("settings       %s%n", new java.util.TreeMap<>(h.settings()));
      }
      String notes = s.report().describe();
      if (!notes.isEmpty()) {
        out.printf("notes          %s%n", notes);
      }
    }

    private void printJson(TraceStats s, PrintWriter out) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("trace", file.toString());
      json.put("source", s.header().source().orElse(null));
      json.put("started_at", s.header().startedAt().orElse(null));
      json.put("requests", s.requests());
      json.put("span_s", s.spanSeconds());
      json.put("mean_rate_per_s", finite(s.meanPerSecond()));
      json.put("peak_rate_per_s", s.peakPerSecond());
      json.put("peak_window_s", s.peakWindowSeconds());
      json.put("peak_requests_in_window", s.peakInWindow());
      json.put("inter_arrival_mean_s", finite(s.meanGapSeconds()));
      json.put("inter_arrival_cv", finite(s.interArrivalCv()));
      json.put("prompt_tokens_mean", finite(s.meanPromptTokens()));
      json.put("output_tokens_mean", finite(s.meanOutputTokens()));
      json.put("output_tokens_from", s.outputFromOutcomes() ? "request_done" : "request");
      json.put("requests_without_outcome", s.withoutOutcome());
      Map<String, Object> models = new LinkedHashMap<>();
      s.perModel().forEach((m, n) -> models.put(m, io.mlxcap.sim.Ordered.map("requests", n, "share", (double) n / s.requests(),
          "model", s.canonical(m))));
      json.put("models", models);
      json.put("loads", s.loads());
      json.put("evictions", s.evictions());
      json.put("outcomes", s.outcomes());
      json.put("skipped_lines", s.report().skipped());
      json.put("torn_last_line", s.report().tornLastLine().orElse(null));
      try {
        out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static String mean(double value) {
      return Double.isNaN(value) ? "unknown" : String.format(Locale.ROOT, "%.0f", value);
    }

    private static Double finite(double value) {
      return Double.isFinite(value) ? value : null;
    }
  }
}
