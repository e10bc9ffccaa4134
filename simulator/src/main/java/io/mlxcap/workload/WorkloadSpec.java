package io.mlxcap.workload;

import io.mlxcap.InvalidInputException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A synthetic workload: how requests arrive, which models they ask for, how many tokens, for how
 * long, from which random seed. The same spec always gives the same trace, byte for byte.
 *
 * @param perSecond mean arrival rate (for on-off: the rate during bursts)
 * @param burstOn mean length of a burst (on-off only)
 * @param burstOff mean length of a pause (on-off only)
 * @param amplitude how far the diurnal rate swings around its mean, 0 to 1 (diurnal only)
 * @param peakHour hour of the day with the highest rate, 0 to 24 (diurnal only)
 * @param models model (name or alias) to its share of requests; shares need not sum to 1
 * @param promptTokens log-normal prompt length
 * @param outputTokens log-normal output length
 * @param keepAlive the keep-alives requests ask for (Ollama's {@code keep_alive}, nanoseconds;
 *     {@code TraceEvent.UNKNOWN} for none, {@code TraceEvent.KEEP_ALIVE_FOREVER}) to their shares;
 *     empty: no request asks for one. Drawn from a random stream of their own, so a workload without
 *     them is the same trace, byte for byte, as before they existed
 */
public record WorkloadSpec(
    ArrivalProcess.Kind arrivals,
    double perSecond,
    Duration burstOn,
    Duration burstOff,
    double amplitude,
    double peakHour,
    Duration duration,
    Map<String, Double> models,
    TokenDistribution promptTokens,
    TokenDistribution outputTokens,
    long seed,
    Map<Long, Double> keepAlive) {

  /** A workload whose requests ask for no keep-alive. */
  public WorkloadSpec(ArrivalProcess.Kind arrivals, double perSecond, Duration burstOn, Duration burstOff, double amplitude,
      double peakHour, Duration duration, Map<String, Double> models, TokenDistribution promptTokens,
      TokenDistribution outputTokens, long seed) {
    this(arrivals, perSecond, burstOn, burstOff, amplitude, peakHour, duration, models, promptTokens, outputTokens, seed,
        Map.of());
  }

  public WorkloadSpec {
    Objects.requireNonNull(arrivals, "arrivals");
    require(perSecond > 0 && Double.isFinite(perSecond), "--rate must be a positive number of requests per second, was " + perSecond);
    require(!duration.isNegative() && !duration.isZero(), "--duration must be positive, was " + duration);
    require(!burstOn.isNegative() && !burstOn.isZero() && !burstOff.isNegative() && !burstOff.isZero(),
        "--on and --off must be positive");
    require(amplitude >= 0 && amplitude <= 1, "--amplitude must be between 0 and 1, was " + amplitude);
    require(peakHour >= 0 && peakHour <= 24, "--peak-hour must be between 0 and 24, was " + peakHour);
    require(!models.isEmpty(), "a workload needs at least one model");
    for (Map.Entry<String, Double> e : models.entrySet()) {
      require(e.getValue() >= 0 && Double.isFinite(e.getValue()), "the share of " + e.getKey() + " must be >= 0, was " + e.getValue());
    }
    require(models.values().stream().mapToDouble(Double::doubleValue).sum() > 0, "the model shares must not all be 0");
    models = new LinkedHashMap<>(models);
    for (Map.Entry<Long, Double> e : keepAlive.entrySet()) {
      require(e.getValue() >= 0 && Double.isFinite(e.getValue()), "a --keep-alive share must be >= 0, was " + e.getValue());
    }
    require(keepAlive.isEmpty() || keepAlive.values().stream().mapToDouble(Double::doubleValue).sum() > 0,
        "the --keep-alive shares must not all be 0");
    keepAlive = new LinkedHashMap<>(keepAlive);
    Objects.requireNonNull(promptTokens, "promptTokens");
    Objects.requireNonNull(outputTokens, "outputTokens");
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new InvalidInputException(message);
    }
  }

  /** A log-normal token count: half the requests below {@code median}; {@code sigma} the spread of its log. */
  public record TokenDistribution(double median, double sigma) {
    public TokenDistribution {
      require(median >= 1 && Double.isFinite(median), "a token median must be >= 1, was " + median);
      require(sigma >= 0 && Double.isFinite(sigma), "a token sigma must be >= 0, was " + sigma);
    }

    /** Reads {@code MEDIAN:SIGMA}, e.g. {@code 512:1.0}. */
    public static TokenDistribution parse(String text, String option) {
      String[] parts = text.split(":");
      try {
        if (parts.length == 2) {
          return new TokenDistribution(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]));
        }
      } catch (NumberFormatException e) {
        // fall through to the message below
      }
      throw new InvalidInputException(option + " '" + text + "' must be MEDIAN:SIGMA, e.g. 512:1.0");
    }

    @Override
    public String toString() {
      return stripZeros(median) + ":" + stripZeros(sigma);
    }
  }

  static String stripZeros(double value) {
    return java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }
}
