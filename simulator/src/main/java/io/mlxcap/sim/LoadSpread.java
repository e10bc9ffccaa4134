package io.mlxcap.sim;

import java.util.List;
import java.util.Map;

/**
 * How measured loads spread around the load-time line of a {@link HostProfile}, in three parts, each measured by
 * {@code calibrate} from a recording:
 *
 * @param warmupSeconds how much longer than the line the process's first loads took, in order (the
 *     engine starting, the JIT compiling the load path): the simulated process's first loads take
 *     the same, whatever model they load
 * @param relative how far the other loads strayed from their usual time (line plus offset), as
 *     fractions of it (0.2: 20 % slower), sorted: the machine's read and page-fault bandwidth varies, so a longer load
 *     strays further. Pooled over all models, so a model loaded a few times still gets the spread of
 *     all of them; the process's n-th load after the warm-up takes one of them, in a fixed scrambled
 *     order that uses each once in each round of as many loads
 * @param offsetSeconds each model's usual distance from the line (the median of its own loads, for
 *     models loaded often enough to have one): a model whose tensors load slower than its bytes
 *     say keeps that; models not named here sit on the line
 */
public record LoadSpread(List<Double> warmupSeconds, List<Double> relative, Map<String, Double> offsetSeconds) {
  /** No spread: every load takes the line. */
  public static final LoadSpread NONE = new LoadSpread(List.of(), List.of(), Map.of());

  public LoadSpread {
    require(warmupSeconds.stream().allMatch(Double::isFinite), "the warm-up load times must be numbers");
    require(relative.stream().allMatch(r -> Double.isFinite(r) && r > -1), "the relative load spread must be numbers above -1");
    require(offsetSeconds.values().stream().allMatch(Double::isFinite), "the models' load-time offsets must be numbers");
    warmupSeconds = List.copyOf(warmupSeconds);
    relative = relative.stream().sorted().toList();
    offsetSeconds = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(offsetSeconds));
  }

  /** True when loads take the line exactly. */
  public boolean isNone() {
    return warmupSeconds.isEmpty() && relative.isEmpty() && offsetSeconds.isEmpty();
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new io.mlxcap.InvalidInputException(message);
    }
  }
}
