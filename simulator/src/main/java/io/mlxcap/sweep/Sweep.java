package io.mlxcap.sweep;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.sim.HostParameter;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sim.RequestSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Runs many configurations over one trace held in memory (read once, shared read-only by every
 * thread), each through the same {@link Prediction} as {@code simulate}, on a fixed pool of threads.
 * Results come back in the configurations' order, so the output does not depend on the thread count.
 *
 * @param trace the requests, read once
 * @param table the model table
 * @param baseSettings the MLX_* variables every configuration starts from (the trace's own)
 * @param baseHost the host options every configuration starts from
 * @param ramLine the RSS line to report time above; empty for each host's RAM minus other usage
 * @param budget the RAM the recommendation must stay under; empty for each host's RAM minus other usage
 * @param baseProfile the host the host options apply to: the defaults, or a calibrated profile (whose
 *     load-time spread no option can give)
 * @param policy whose server the settings are of
 */
public record Sweep(RequestSource.InMemory trace, ModelTable table, Map<String, String> baseSettings,
    Map<HostParameter, String> baseHost, OptionalLong ramLine, OptionalLong budget, HostProfile baseProfile,
    io.mlxcap.settings.ServerPolicy policy) {

  /** A sweep of mlx settings. */
  public Sweep(RequestSource.InMemory trace, ModelTable table, Map<String, String> baseSettings,
      Map<HostParameter, String> baseHost, OptionalLong ramLine, OptionalLong budget, HostProfile baseProfile) {
    this(trace, table, baseSettings, baseHost, ramLine, budget, baseProfile, io.mlxcap.settings.ServerPolicy.MLX);
  }

  /** A sweep from the default host. */
  public Sweep(RequestSource.InMemory trace, ModelTable table, Map<String, String> baseSettings,
      Map<HostParameter, String> baseHost, OptionalLong ramLine, OptionalLong budget) {
    this(trace, table, baseSettings, baseHost, ramLine, budget, HostProfile.DEFAULT);
  }

  /** What became of one configuration: a row of figures, or the reason it was skipped. */
  public record Outcome(Configuration configuration, Optional<Row> row, Optional<String> skipped) {}

  /**
   * Runs {@code configurations} on {@code threads} threads; {@code done} hears each one finish (from
   * any thread).
   */
  public List<Outcome> run(List<Configuration> configurations, int threads, IntConsumer done) {
    if (threads < 1) {
      throw new InvalidInputException("--threads must be at least 1, was " + threads);
    }
    // No more threads than configurations: --threads 100000 must not start 100,000 threads.
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, configurations.size())), r -> {
      Thread t = new Thread(r, "mlxcap-sweep");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Outcome>> futures = new ArrayList<>(configurations.size());
      for (int i = 0; i < configurations.size(); i++) {
        int index = i;
        futures.add(pool.submit(() -> {
          Outcome outcome = runOne(index, configurations.get(index));
          done.accept(index);
          return outcome;
        }));
      }
      List<Outcome> outcomes = new ArrayList<>(configurations.size());
      for (Future<Outcome> f : futures) {
        outcomes.add(f.get());
      }
      return outcomes;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the sweep was interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** One configuration: skipped with the reason when its settings or host are refused. */
  public Outcome runOne(int index, Configuration configuration) {
    Configuration.Resolved resolved;
    try {
      resolved = configuration.resolve(policy, baseSettings, table, baseProfile, baseHost);
    } catch (InvalidInputException e) {
      return new Outcome(configuration, Optional.empty(), Optional.of(e.getMessage()));
    }
    long line = ramLine.orElse(Prediction.defaultRamLine(resolved.host()));
    Prediction p = Prediction.of(resolved.settings(), table, resolved.host(), line, trace);
    long budgetBytes = budget.orElse(Prediction.defaultRamLine(resolved.host()));
    return new Outcome(configuration, Optional.of(Row.of(index, configuration, p, line, budgetBytes)), Optional.empty());
  }

  /** The full prediction of one configuration (timelines and histograms), for a report's charts. */
  public Prediction predict(Configuration configuration) {
    Configuration.Resolved resolved = configuration.resolve(policy, baseSettings, table, baseProfile, baseHost);
    return Prediction.of(resolved.settings(), table, resolved.host(), ramLineOf(resolved), trace);
  }

  /** The settings and host of {@code configuration} on this sweep's base. */
  public Configuration.Resolved resolve(Configuration configuration) {
    return configuration.resolve(policy, baseSettings, table, baseProfile, baseHost);
  }

  /** The RAM line of a resolved configuration. */
  public long ramLineOf(Configuration.Resolved resolved) {
    return ramLine.orElse(Prediction.defaultRamLine(resolved.host()));
  }
}
