package io.mlxcap.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mlxcap.stats.TraceStats;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import io.mlxcap.trace.TraceWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
      out.printf(Locale.ROOT, "peak rate      %.4f req/s (%d requests in the busiest minute)%n", s.peakPerMinute() / 60.0,
          s.peakPerMinute());
      out.printf(Locale.ROOT, "inter-arrival  mean %s, CV %.2f%n", Durations.format(s.meanGapSeconds()), s.interArrivalCv());
      out.printf(Locale.ROOT, "tokens         prompt mean %.0f, output mean %.0f%n", s.meanPromptTokens(), s.meanOutputTokens());
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
      json.put("peak_rate_per_s", s.peakPerMinute() / 60.0);
      json.put("peak_requests_per_minute", s.peakPerMinute());
      json.put("inter_arrival_mean_s", finite(s.meanGapSeconds()));
      json.put("inter_arrival_cv", finite(s.interArrivalCv()));
      json.put("prompt_tokens_mean", finite(s.meanPromptTokens()));
      json.put("output_tokens_mean", finite(s.meanOutputTokens()));
      Map<String, Object> models = new LinkedHashMap<>();
      s.perModel().forEach((m, n) -> models.put(m, Map.of("requests", n, "share", (double) n / s.requests(),
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

    private static Double finite(double value) {
      return Double.isFinite(value) ? value : null;
    }
  }

  @Command(name = "read", mixinStandardHelpOptions = true,
      description = "Benchmark the trace reader: write N request lines to a temporary file, read them back several times in this JVM and print request lines per second (best and median).")
  static final class BenchRead implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--requests", defaultValue = "5000000", paramLabel = "N", description = "Request lines. Default: ${DEFAULT-VALUE}.")
    long requests;

    @Option(names = "--runs", defaultValue = "5", paramLabel = "N", description = "Timed reads after one warm-up. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Path file;
      try {
        file = Files.createTempFile("mlxcap-bench", ".jsonl");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      try {
        String[] models = {"fast", "default", "reasoning", "command-r-plus:104b"};
        try (TraceWriter writer = TraceWriter.buffered(file, TraceHeader.empty())) {
          for (long i = 0; i < requests; i++) {
            writer.write(new TraceEvent.Request(i * 1_000_000L, "r" + i, models[(int) (i % 4)], 100 + i % 900,
                TraceEvent.UNKNOWN, 50 + i % 400, TraceEvent.UNKNOWN));
          }
        }
        long bytes = file.toFile().length();
        out.printf(Locale.ROOT, "%d request lines, %.1f MB, in %s%n", requests, bytes / 1e6, file);
        List<Double> rates = new ArrayList<>();
        for (int run = 0; run <= runs; run++) {
          long start = System.nanoTime();
          long events = 0;
          try (TraceReader reader = TraceReader.open(file, TraceReader.Mode.STRICT)) {
            while (reader.next() != null) {
              events++;
            }
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          if (events != requests) {
            throw new IllegalStateException("read " + events + " of " + requests + " events");
          }
          if (run > 0) {
            rates.add(events / seconds);
          }
          out.printf(Locale.ROOT, "%s %d: %.2f s, %.2f M lines/s%n", run == 0 ? "warm-up" : "run", run, seconds,
              events / seconds / 1e6);
        }
        rates.sort(null);
        out.printf(Locale.ROOT, "best %.2f M lines/s, median %.2f M lines/s (%s, %d cores)%n",
            rates.get(rates.size() - 1) / 1e6, rates.get(rates.size() / 2) / 1e6,
            System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
      } finally {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          out.println("could not delete " + file);
        }
      }
    }
  }
}
