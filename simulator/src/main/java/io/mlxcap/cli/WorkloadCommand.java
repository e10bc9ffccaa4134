package io.mlxcap.cli;

import io.mlxcap.Durations;
import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceWriter;
import io.mlxcap.workload.ArrivalProcess;
import io.mlxcap.workload.SeedScenario;
import io.mlxcap.workload.Workload;
import io.mlxcap.workload.WorkloadSpec;
import io.mlxcap.workload.WorkloadSpec.TokenDistribution;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mlxcap workload}: seeded synthetic traces. */
@Command(
    name = "workload",
    mixinStandardHelpOptions = true,
    description = "Generate synthetic traces: Poisson, bursty (on-off) or diurnal arrivals, Zipf or chosen model shares, log-normal token counts. Always seeded: the same options give the same file, byte for byte.",
    subcommands = {WorkloadCommand.Synth.class, WorkloadCommand.Scenario.class})
final class WorkloadCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static void write(WorkloadSpec spec, ModelTable table, Path out, Optional<String> startedAt, String source,
      CommandLine.Model.CommandSpec command) {
    TraceHeader header = new TraceHeader(startedAt, Optional.of(source), TraceEvent.UNKNOWN, (int) TraceEvent.UNKNOWN,
        Map.of(), Optional.of(table));
    long count;
    try (TraceWriter writer = TraceWriter.buffered(out, header)) {
      count = Workload.generate(spec, table, writer::write);
    }
    command.commandLine().getOut().printf(Locale.ROOT, "wrote %d requests over %s to %s%n", count,
        Durations.format(spec.duration().toNanos() / 1e9), out);
  }

  @Command(name = "synth", mixinStandardHelpOptions = true, description = "A workload from the options below.")
  static final class Synth implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin ModelTableOption models;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "The trace to write.")
    Path out;

    @Option(names = "--arrivals", defaultValue = "poisson", paramLabel = "KIND",
        description = "poisson, on-off (bursts of --on at --rate, pauses of --off) or diurnal (mean --rate, swinging by --amplitude around --peak-hour). Default: ${DEFAULT-VALUE}.")
    String arrivals;

    @Option(names = "--rate", defaultValue = "0.1", paramLabel = "PER_SECOND", description = "Requests per second. Default: ${DEFAULT-VALUE}.")
    double rate;

    @Option(names = "--duration", defaultValue = "1h", converter = DurationConverter.class, paramLabel = "DURATION",
        description = "How long the trace runs: 90s, 10m, 24h, 7d. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--on", defaultValue = "5m", converter = DurationConverter.class, paramLabel = "DURATION", description = "Mean burst length (on-off). Default: ${DEFAULT-VALUE}.")
    Duration on;

    @Option(names = "--off", defaultValue = "20m", converter = DurationConverter.class, paramLabel = "DURATION", description = "Mean pause length (on-off). Default: ${DEFAULT-VALUE}.")
    Duration off;

    @Option(names = "--amplitude", defaultValue = "0.8", paramLabel = "0..1", description = "Diurnal swing around the mean rate. Default: ${DEFAULT-VALUE}.")
    double amplitude;

    @Option(names = "--peak-hour", defaultValue = "14", paramLabel = "HOUR", description = "Busiest hour of the day (diurnal; trace time 0 is midnight). Default: ${DEFAULT-VALUE}.")
    double peakHour;

    @Option(names = "--mix", defaultValue = "zipf:1", paramLabel = "zipf:S|MODEL=SHARE,…",
        description = "Model popularity: Zipf with exponent S over the table's order, or shares per model (names or aliases). Default: ${DEFAULT-VALUE}.")
    String mix;

    @Option(names = "--prompt-tokens", defaultValue = "600:1.0", paramLabel = "MEDIAN:SIGMA", description = "Log-normal prompt length. Default: ${DEFAULT-VALUE}.")
    String prompt;

    @Option(names = "--output-tokens", defaultValue = "250:0.8", paramLabel = "MEDIAN:SIGMA", description = "Log-normal output length. Default: ${DEFAULT-VALUE}.")
    String output;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--start", paramLabel = "INSTANT", description = "When the trace's time 0 is, e.g. 2026-01-29T00:00:00Z (recorded in the header).")
    String start;

    @Option(names = "--keep-alive", paramLabel = "VALUE=SHARE,…",
        description = "Keep-alives the requests ask for (Ollama's keep_alive), with their shares: a duration (0 unloads the "
            + "model as soon as it is idle), forever, or none (no keep_alive: the idle TTL applies), e.g. 0=0.2,30s=0.3,none=0.5. "
            + "Default: none asks for one.")
    String keepAlive;

    @Override
    public void run() {
      ModelTable table = models.table();
      ArrivalProcess.Kind kind = null;
      for (ArrivalProcess.Kind k : ArrivalProcess.Kind.values()) {
        if (k.cliName().equals(arrivals)) {
          kind = k;
        }
      }
      if (kind == null) {
        throw new InvalidInputException("--arrivals must be poisson, on-off or diurnal, was '" + arrivals + "'");
      }
      Optional<String> startedAt = Optional.ofNullable(start).map(s -> {
        try {
          return Instant.parse(s).toString();
        } catch (DateTimeParseException e) {
          throw new InvalidInputException("--start '" + s + "' is not an instant such as 2026-01-29T00:00:00Z");
        }
      });
      WorkloadSpec workload = new WorkloadSpec(kind, rate, on, off, amplitude, peakHour, duration, shares(table),
          TokenDistribution.parse(prompt, "--prompt-tokens"), TokenDistribution.parse(output, "--output-tokens"), seed,
          keepAlives());
      write(workload, table, out, startedAt, "mlxcap workload synth --arrivals " + kind.cliName() + " --rate " + rate
          + " --duration " + duration + " --mix " + mix + " --prompt-tokens " + workload.promptTokens()
          + " --output-tokens " + workload.outputTokens() + " --seed " + seed
          + (keepAlive == null ? "" : " --keep-alive " + keepAlive), spec);
    }

    /** {@code --keep-alive} read: each value (nanoseconds, UNKNOWN for none, forever) to its share. */
    private Map<Long, Double> keepAlives() {
      Map<Long, Double> shares = new java.util.LinkedHashMap<>();
      if (keepAlive == null) {
        return shares;
      }
      for (String part : keepAlive.split(",")) {
        String[] kv = part.split("=", 2);
        if (kv.length != 2) {
          throw new InvalidInputException("--keep-alive '" + part + "' must be VALUE=SHARE, e.g. 30s=0.5");
        }
        String value = kv[0].strip();
        long nanos = switch (value) {
          case "none" -> TraceEvent.UNKNOWN;
          case "forever", "-1" -> TraceEvent.KEEP_ALIVE_FOREVER;
          default -> io.mlxcap.Durations.parse("--keep-alive", value).toNanos();
        };
        double share;
        try {
          share = Double.parseDouble(kv[1].strip());
        } catch (NumberFormatException e) {
          throw new InvalidInputException("--keep-alive share '" + kv[1] + "' for " + value + " is not a number");
        }
        if (shares.put(nanos, share) != null) {
          throw new InvalidInputException("--keep-alive names " + value + " twice");
        }
      }
      return shares;
    }

    private Map<String, Double> shares(ModelTable table) {
      if (mix.startsWith("zipf")) {
        double exponent = 1;
        if (mix.startsWith("zipf:")) {
          try {
            exponent = Double.parseDouble(mix.substring(5));
          } catch (NumberFormatException e) {
            throw new InvalidInputException("--mix '" + mix + "': the Zipf exponent must be a number, e.g. zipf:1.2");
          }
        } else if (!mix.equals("zipf")) {
          throw new InvalidInputException("--mix '" + mix + "' must be zipf:S or MODEL=SHARE,…");
        }
        return Workload.zipf(table.models().stream().map(ModelSpec::name).toList(), exponent);
      }
      Map<String, Double> shares = new LinkedHashMap<>();
      for (String part : mix.split(",")) {
        String[] kv = part.split("=");
        try {
          if (kv.length != 2) {
            throw new NumberFormatException();
          }
          shares.put(kv[0].strip(), Double.parseDouble(kv[1]));
        } catch (NumberFormatException e) {
          throw new InvalidInputException("--mix '" + mix + "': '" + part + "' must be MODEL=SHARE, e.g. fast=0.6");
        }
      }
      return shares;
    }
  }

  @Command(name = "seed-scenario", mixinStandardHelpOptions = true,
      description = "The seed's story over a day: fast and default busy, reasoning (70b) now and then, the 104b rarely; diurnal arrivals, mean 0.03/s, peak 14:00. The committed traces/samples/seed-scenario.jsonl is this.")
  static final class Scenario implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "The trace to write.")
    Path out;

    @Option(names = "--seed", defaultValue = "" + SeedScenario.SEED, paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public void run() {
      WorkloadSpec base = SeedScenario.spec();
      WorkloadSpec workload = new WorkloadSpec(base.arrivals(), base.perSecond(), base.burstOn(), base.burstOff(),
          base.amplitude(), base.peakHour(), base.duration(), base.models(), base.promptTokens(), base.outputTokens(), seed);
      write(workload, ModelTable.defaults(), out, Optional.of(SeedScenario.STARTED_AT),
          "mlxcap workload seed-scenario --seed " + seed, spec);
    }
  }
}
