package io.mlxcap.sim;

import java.util.Map;

/**
 * How serving one request is slowed by what runs beside it, as {@code calibrate} measures it.
 *
 * <p>Generations that overlap share the host's cores: with {@code n} in service at once, each
 * advances at {@code 1 / (1 + slowdownPerGeneration × (n − 1))} of its solo speed (processor
 * sharing), so a request's time depends on the others' and the simulator works out each one's end as
 * the number in service changes. A request that waited for its model's load is served first on
 * freshly loaded weights and takes {@code coldExtraSeconds} of its model longer, on average (measured on
 * this project's machine with one worker: +50 to +200 ms for the two largest models of the loop,
 * about nothing for the smallest; with four workers and a byte budget, less than 0 for one). Recorded service times already hold both and are taken as they are.
 *
 * @param slowdownPerGeneration how much of its solo time each other generation in service adds to one
 * @param coldExtraSeconds per model, what its first service after a load takes beyond the usual
 */
public record ServiceContention(double slowdownPerGeneration, Map<String, Double> coldExtraSeconds) {
  /** Each request is served at its solo speed, cold or not. */
  public static final ServiceContention NONE = new ServiceContention(0, Map.of());

  public ServiceContention {
    if (!(slowdownPerGeneration >= 0) || Double.isInfinite(slowdownPerGeneration)) {
      throw new io.mlxcap.InvalidInputException("the service slowdown per generation must be at least 0, was "
          + slowdownPerGeneration);
    }
    coldExtraSeconds = Map.copyOf(coldExtraSeconds);
  }

  /** Whether anything slows a service down. */
  public boolean isNone() {
    return slowdownPerGeneration == 0 && coldExtraSeconds.values().stream().allMatch(v -> v == 0);
  }

  /** The speed of each of {@code n} generations in service at once, as a fraction of its solo speed. */
  public double speed(int n) {
    return n <= 1 ? 1 : 1 / (1 + slowdownPerGeneration * (n - 1));
  }

  /** Nanoseconds a cold service of {@code model} takes beyond its usual time (less than 0: shorter). */
  public long coldExtraNanos(String model) {
    Double s = coldExtraSeconds.get(model);
    return s == null ? 0 : Math.round(s * 1e9);
  }
}
