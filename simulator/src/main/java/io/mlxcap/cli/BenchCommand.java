package io.mlxcap.cli;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sim.RequestSource;
import io.mlxcap.sim.SimResult;
import io.mlxcap.sim.Simulation;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import io.mlxcap.trace.TraceWriter;
import io.mlxcap.workload.ArrivalProcess;
import io.mlxcap.workload.Workload;
import io.mlxcap.workload.WorkloadSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap bench}: the throughput benchmarks, as commands rather than timed tests. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks: trace reading and simulation throughput on this machine. Each prints its figures "
        + "with the Java version and core count; pass JVM options (e.g. -Xmx256m) in MLXCAP_JAVA_OPTS.",
    subcommands = {BenchCommand.BenchRead.class, BenchCommand.Simulate.class, BenchCommand.SweepBench.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static Path tempFile() {
    try {
      return Files.createTempFile("mlxcap-bench", ".jsonl");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String machine() {
    return String.format(Locale.ROOT, "Java %s, %d cores, max heap %d MB", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
  }

  @Command(name = "simulate", mixinStandardHelpOptions = true,
      description = "Simulation throughput: a synthetic trace of N requests over the four seed models "
          + "(Poisson, Zipf, recorded service times, default settings), replayed on one thread from memory (--mode "
          + "memory: the trace in compact arrays) or end to end from its JSONL file (--mode file: read, parse, "
          + "simulate, in memory that does not grow with N); or (--mode fleet) the trace a count-LRU cache simulator "
          + "is compared on: 100 models m000-m099 of 1 GB, Zipf 1, Poisson, seed 7, served at once, replayed end to "
          + "end from its JSONL file the way simulate does (read on one thread while the cache runs on another) "
          + "under MLX_MAX_CACHED_MODELS=10.")
  static final class Simulate implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--requests", defaultValue = "10000000", paramLabel = "N", description = "Requests. Default: ${DEFAULT-VALUE}.")
    int requests;

    @Option(names = "--mode", defaultValue = "file", paramLabel = "memory|file|fleet", description = "Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--runs", defaultValue = "3", paramLabel = "N", description = "Timed runs after one warm-up. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Override
    public void run() {
      if (!mode.equals("memory") && !mode.equals("file") && !mode.equals("fleet")) {
        throw new io.mlxcap.InvalidInputException("--mode must be memory, file or fleet, was '" + mode + "'");
      }
      if (requests < 1) {
        throw new io.mlxcap.InvalidInputException("--requests must be at least 1, was " + requests);
      }
      PrintWriter out = spec.commandLine().getOut();
      if (mode.equals("fleet")) {
        fleet(out, requests, runs);
        return;
      }
      ModelTable table = ModelTable.defaults();
      Settings settings = Settings.defaults(table);
      Path file = tempFile();
      try {
        // One request every 20 s on average, each served in 2 s: the worker is rarely busy, the queue short.
        long written = writeRequests(file, table, "bench", false, new WorkloadSpec.TokenDistribution(500, 1),
            new WorkloadSpec.TokenDistribution(200, 1), 42, requests, 2_000_000_000L);
        out.printf(Locale.ROOT, "%,d requests, %.0f MB of JSONL; %s%n", written, file.toFile().length() / 1e6, machine());
        RequestSource.InMemory inMemory = null;
        if (mode.equals("memory")) {
          try (TraceReader reader = TraceReader.open(file, TraceReader.Mode.STRICT)) {
            inMemory = RequestSource.InMemory.of(RequestSource.of(reader));
          }
        }
        List<Double> rates = new ArrayList<>();
        for (int run = 0; run <= runs; run++) {
          System.gc();
          long start = System.nanoTime();
          SimResult result;
          Simulation simulation = new Simulation(settings, table, HostProfile.DEFAULT, SizeRange.Estimate.EXPECTED, Long.MAX_VALUE);
          if (inMemory != null) {
            result = simulation.run(inMemory.replay());
          } else {
            try (RequestSource source = RequestSource.of(TraceReader.open(file, TraceReader.Mode.STRICT))) {
              result = simulation.run(source);
            }
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          double rate = result.requests() / seconds;
          if (run > 0) {
            rates.add(rate);
          }
          long used = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
          out.printf(Locale.ROOT, "%s %d: %.2f s, %.2f M requests/s (%,d loads, peak %s), heap in use %d MB%n",
              run == 0 ? "warm-up" : "run", run, seconds, rate / 1e6, result.totalLoads(),
              io.mlxcap.ByteSize.format(result.peakRssBytes()), used);
        }
        rates.sort(null);
        out.printf(Locale.ROOT, "%s mode: best %.2f M, median %.2f M requests/s%n", mode, rates.get(rates.size() - 1) / 1e6,
            rates.get(rates.size() / 2) / 1e6);
      } finally {
        delete(file);
      }
    }
  }

  /**
   * The fleet trace: {@code requests} requests over 100 models of 1 GB that are served at once (so the
   * cache sees every request as a count-LRU would), replayed end to end as {@code simulate} does.
   */
  private static void fleet(PrintWriter out, int requests, int runs) {
    List<ModelSpec> specs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      specs.add(new ModelSpec(String.format(Locale.ROOT, "m%03d", i), List.of(), SizeRange.exactly(1_000_000_000L),
          new io.mlxcap.model.Performance(262_144, 1e7, 1e6)));
    }
    ModelTable table = ModelTable.of(specs);
    Settings settings = Settings.defaults(table).with(Map.of("MLX_MAX_CACHED_MODELS", "10", "MLX_PRELOAD_MODELS", "",
        "MLX_CACHE_CLEANUP_INTERVAL_SEC", "0"), table);
    Path file = tempFile();
    try {
      // 0.05 requests a second: each is served long before the next arrives.
      long written = writeRequests(file, table, "bench fleet", true, new WorkloadSpec.TokenDistribution(600, 1),
          new WorkloadSpec.TokenDistribution(250, 0.8), 7, requests, TraceEvent.UNKNOWN);
      out.printf(Locale.ROOT, "fleet: %,d requests over 100 models, %.0f MB of JSONL; %s%n", written,
          file.toFile().length() / 1e6, machine());
      List<Double> seconds = new ArrayList<>();
      for (int run = 0; run <= runs; run++) {
        System.gc();
        long start = System.nanoTime();
        Prediction.Read read = Prediction.read(settings, table, HostProfile.DEFAULT, Long.MAX_VALUE, file,
            TraceReader.Mode.STRICT);
        double s = (System.nanoTime() - start) / 1e9;
        if (run > 0) {
          seconds.add(s);
        }
        long used = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
        out.printf(Locale.ROOT, "%s %d: %.2f s, %.2f M requests/s (%,d loads), heap in use %d MB%n",
            run == 0 ? "warm-up" : "run", run, s, written / s / 1e6, read.prediction().expected().totalLoads(), used);
      }
      seconds.sort(null);
      out.printf(Locale.ROOT, "fleet mode: median %.2f s, %.2f M requests/s%n", seconds.get(seconds.size() / 2),
          written / seconds.get(seconds.size() / 2) / 1e6);
    } finally {
      delete(file);
    }
  }

  /**
   * Writes to {@code file} the first {@code requests} requests of a Poisson workload at 0.05 a second,
   * Zipf 1 over {@code table}'s models, each with {@code serviceNanos} (or none), and returns how many
   * it wrote; {@code tableInHeader} puts the table in the header.
   */
  private static long writeRequests(Path file, ModelTable table, String source, boolean tableInHeader,
      WorkloadSpec.TokenDistribution prompt, WorkloadSpec.TokenDistribution output, long seed, long requests,
      long serviceNanos) {
    WorkloadSpec workload = new WorkloadSpec(ArrivalProcess.Kind.POISSON, 0.05, Duration.ofMinutes(5),
        Duration.ofMinutes(20), 0, 0, Duration.ofDays(365L * 100),
        Workload.zipf(table.models().stream().map(ModelSpec::name).toList(), 1.0), prompt, output, seed);
    long[] written = {0};
    try (TraceWriter writer = TraceWriter.buffered(file, new TraceHeader(Optional.empty(), Optional.of(source),
        TraceEvent.UNKNOWN, (int) TraceEvent.UNKNOWN, Map.of(), tableInHeader ? Optional.of(table) : Optional.empty()))) {
      Workload.generate(workload, table, r -> {
        if (written[0] < requests) {
          writer.write(new TraceEvent.Request(r.timeNanos(), r.id(), r.model(), r.promptTokens(), TraceEvent.UNKNOWN,
              r.outputTokens(), serviceNanos));
          written[0]++;
        } else {
          throw new Done();
        }
      });
    } catch (Done done) {
      // enough requests
    }
    return written[0];
  }

  /** Stops a generator early. */
  private static final class Done extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Done() {
      super(null, null, false, false);
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
      Path file = tempFile();
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
        out.printf(Locale.ROOT, "best %.2f M lines/s, median %.2f M lines/s (%s)%n",
            rates.get(rates.size() - 1) / 1e6, rates.get(rates.size() / 2) / 1e6, machine());
      } finally {
        delete(file);
      }
    }
  }

  @Command(name = "sweep", mixinStandardHelpOptions = true,
      description = "Sweep throughput: N configurations (a grid of MLX_MAX_CACHED_MODELS, MLX_MAX_CACHE_BYTES, "
          + "MLX_MODEL_IDLE_TTL_SEC, MLX_PRELOAD_MODELS and host RAM) over a trace read once into memory, each with its "
          + "low / expected / high passes, on 1 thread and then on --threads threads, --runs times each; prints the "
          + "median wall time of each and the speed-up. Default trace: the committed Azure 2023 trace.")
  static final class SweepBench implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--trace", paramLabel = "FILE", description = "Default: traces/public/azure-2023-code-conv.jsonl of the project.")
    Path trace;

    @Option(names = "--configurations", defaultValue = "1000", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int configurations;

    @Option(names = "--threads", paramLabel = "N", description = "Threads of the parallel runs. Default: the machine's cores.")
    Integer threads;

    @Option(names = "--runs", defaultValue = "3", paramLabel = "N", description = "Runs of each. Default: ${DEFAULT-VALUE}.")
    int runs;

    @Option(names = "--concurrency", paramLabel = "N",
        description = "MLX_MAX_CONCURRENT_REQUESTS of every configuration. Default: the trace's own (one worker for the "
            + "Azure trace, which then refuses most requests: cheap to simulate). The committed Azure report uses 64, "
            + "where every request is served: try --concurrency 64 for the heavier figure.")
    Integer concurrency;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Path file = trace != null ? trace
          : Path.of(System.getProperty("mlxcap.home", ".")).resolve("traces/public/azure-2023-code-conv.jsonl");
      long readStart = System.nanoTime();
      RequestSource.InMemory requests = RequestSource.InMemory.read(file, TraceReader.Mode.STRICT);
      double readSeconds = (System.nanoTime() - readStart) / 1e9;
      ModelTable table = requests.header().models().orElse(ModelTable.defaults());
      List<io.mlxcap.sweep.Configuration> grid = grid(configurations);
      Map<String, String> base = new java.util.LinkedHashMap<>(requests.header().settings());
      if (concurrency != null) {
        base.put("MLX_MAX_CONCURRENT_REQUESTS", Integer.toString(concurrency));
      }
      io.mlxcap.sweep.Sweep sweep = new io.mlxcap.sweep.Sweep(requests, table, base, Map.of(),
          java.util.OptionalLong.empty(), java.util.OptionalLong.empty());
      int parallel = threads != null ? threads : Runtime.getRuntime().availableProcessors();
      sweep.run(grid.subList(0, Math.min(grid.size(), 200)), parallel, i -> { }); // warm-up, not timed
      out.printf(Locale.ROOT, "bench sweep    %s: %,d requests (read once in %.2f s); %,d configurations x 3 passes,"
              + " MLX_MAX_CONCURRENT_REQUESTS=%s; %s%n", file.getFileName(), requests.size(), readSeconds, grid.size(),
          concurrency == null ? base.getOrDefault("MLX_MAX_CONCURRENT_REQUESTS", "1") : concurrency, machine());
      double one = median(sweep, grid, 1, out);
      double many = median(sweep, grid, parallel, out);
      out.printf(Locale.ROOT, "speed-up       %.2fx from 1 to %d threads (%.1f M simulated requests/s on %d)%n", one / many,
          parallel, 3.0 * grid.size() * requests.size() / many / 1e6, parallel);
    }

    private double median(io.mlxcap.sweep.Sweep sweep, List<io.mlxcap.sweep.Configuration> grid, int threads, PrintWriter out) {
      double[] seconds = new double[runs];
      for (int r = 0; r < runs; r++) {
        System.gc();
        long start = System.nanoTime();
        List<io.mlxcap.sweep.Sweep.Outcome> outcomes = sweep.run(grid, threads, i -> { });
        seconds[r] = (System.nanoTime() - start) / 1e9;
        long simulated = outcomes.stream().filter(o -> o.row().isPresent()).count();
        out.printf(Locale.ROOT, "  %d thread%s run %d: %.2f s (%d simulated, %d skipped), heap in use %d MB%n", threads,
            threads == 1 ? "" : "s", r + 1, seconds[r], simulated, grid.size() - simulated,
            (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
      }
      java.util.Arrays.sort(seconds);
      double median = seconds[runs / 2];
      out.printf(Locale.ROOT, "%d thread%s      median %.2f s%n", threads, threads == 1 ? " " : "s", median);
      return median;
    }

    /** The first n configurations of a grid of caps, budgets, idle TTLs, preloads and host RAM sizes. */
    static List<io.mlxcap.sweep.Configuration> grid(int n) {
      List<io.mlxcap.sweep.Configuration> all = new ArrayList<>();
      String[] caps = {"1", "2", "3", "4", "off"};
      String[] budgets = {"off", "8GiB", "16GiB", "24GiB", "32GiB", "48GiB", "64GiB", "96GiB"};
      String[] ttls = {"off", "60", "300", "900", "3600"};
      String[] preloads = {"", "fast", "default,fast"};
      String[] rams = {"32GiB", "48GiB", "64GiB", "96GiB", "128GiB", "192GiB"};
      for (String ram : rams) {
        for (String preload : preloads) {
          for (String ttl : ttls) {
            for (String budget : budgets) {
              for (String cap : caps) {
                if (all.size() == n) {
                  return all;
                }
                Map<String, String> settings = new java.util.LinkedHashMap<>();
                settings.put("MLX_MAX_CACHED_MODELS", cap);
                settings.put("MLX_MAX_CACHE_BYTES", budget);
                settings.put("MLX_MODEL_IDLE_TTL_SEC", ttl);
                settings.put("MLX_PRELOAD_MODELS", preload);
                all.add(io.mlxcap.sweep.Configuration.of(settings,
                    Map.of(io.mlxcap.sim.HostParameter.HOST_RAM, ram, io.mlxcap.sim.HostParameter.HOST_OTHER, "4GiB")));
              }
            }
          }
        }
      }
      return all;
    }
  }
}
