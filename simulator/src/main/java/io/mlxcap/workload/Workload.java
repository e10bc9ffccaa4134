package io.mlxcap.workload;

import io.mlxcap.model.ModelTable;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceEvent.Request;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.math3.distribution.LogNormalDistribution;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;

/** Generates the request lines of a {@link WorkloadSpec}, streaming, in constant memory. */
public final class Workload {
  /** Token counts are capped here: longer contexts than any of the seed's models take. */
  static final long MAX_TOKENS = 131_072;

  private Workload() {}

  /**
   * Hands every request of {@code spec} to {@code sink} in time order and returns how many there were.
   * Models are checked against {@code table} first.
   */
  public static long generate(WorkloadSpec spec, ModelTable table, Consumer<Request> sink) {
    List<String> models = List.copyOf(spec.models().keySet());
    models.forEach(table::resolve);
    double[] cumulative = new double[models.size()];
    double total = 0;
    for (int i = 0; i < models.size(); i++) {
      total += spec.models().get(models.get(i));
      cumulative[i] = total;
    }
    RandomGenerator random = new Well19937c(spec.seed());
    ArrivalProcess arrivals = switch (spec.arrivals()) {
      case POISSON -> ArrivalProcess.poisson(spec.perSecond(), random);
      case ON_OFF -> ArrivalProcess.onOff(spec.perSecond(), spec.burstOn(), spec.burstOff(), random);
      case DIURNAL -> ArrivalProcess.diurnal(spec.perSecond(), spec.amplitude(), spec.peakHour(), random);
    };
    LogNormalDistribution prompt = logNormal(spec.promptTokens(), random);
    LogNormalDistribution output = logNormal(spec.outputTokens(), random);
    long end = spec.duration().toNanos();
    long count = 0;
    // Keep-alives come from a stream of their own: a workload without them draws exactly what it drew before.
    long[] keepAlives = spec.keepAlive().keySet().stream().mapToLong(Long::longValue).toArray();
    double[] keepAliveCumulative = new double[keepAlives.length];
    double keepAliveTotal = 0;
    for (int i = 0; i < keepAlives.length; i++) {
      keepAliveTotal += spec.keepAlive().get(keepAlives[i]);
      keepAliveCumulative[i] = keepAliveTotal;
    }
    RandomGenerator keepAliveRandom = new Well19937c(spec.seed() ^ 0x6b65657061L);
    for (long t = arrivals.next(); t < end; t = arrivals.next()) {
      double pick = random.nextDouble() * total;
      int model = 0;
      while (cumulative[model] <= pick && model < models.size() - 1) {
        model++;
      }
      count++;
      long keepAlive = TraceEvent.UNKNOWN;
      if (keepAlives.length > 0) {
        double k = keepAliveRandom.nextDouble() * keepAliveTotal;
        int i = 0;
        while (keepAliveCumulative[i] <= k && i < keepAlives.length - 1) {
          i++;
        }
        keepAlive = keepAlives[i];
      }
      sink.accept(new Request(t, "w" + count, models.get(model), tokens(prompt), TraceEvent.UNKNOWN, tokens(output),
          TraceEvent.UNKNOWN, keepAlive));
    }
    return count;
  }

  private static LogNormalDistribution logNormal(WorkloadSpec.TokenDistribution d, RandomGenerator random) {
    return new LogNormalDistribution(random, Math.log(d.median()), Math.max(d.sigma(), 1e-12));
  }

  private static long tokens(LogNormalDistribution distribution) {
    return Math.max(1, Math.min(MAX_TOKENS, Math.round(distribution.sample())));
  }

  /** Zipf shares over {@code models} in order: the k-th gets 1 / k^exponent. */
  public static Map<String, Double> zipf(List<String> models, double exponent) {
    Map<String, Double> shares = new java.util.LinkedHashMap<>();
    for (int k = 1; k <= models.size(); k++) {
      shares.put(models.get(k - 1), 1 / Math.pow(k, exponent));
    }
    return shares;
  }
}
