package io.mlxcap.sim;

import java.util.List;
import java.util.Map;

/**
 * How measured loads spread around the load-time line of a {@link HostProfile}, each part measured
 * by {@code calibrate} from one recording or several:
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
 * @param relativeByModel a model's own deviations in place of the pooled ones, for models loaded often
 *     enough that their own tail is measured (calibrate: 30 later loads, which several recordings give)
 */
public record LoadSpread(List<Double> warmupSeconds, List<Double> relative, Map<String, Double> offsetSeconds,
    Map<String, List<Double>> relativeByModel) {
  /** No spread: every load takes the line. */
  public static final LoadSpread NONE = new LoadSpread(List.of(), List.of(), Map.of());

  /** A spread pooled over all models. */
  public LoadSpread(List<Double> warmupSeconds, List<Double> relative, Map<String, Double> offsetSeconds) {
    this(warmupSeconds, relative, offsetSeconds, Map.of());
  }

  public LoadSpread {
    require(warmupSeconds.stream().allMatch(Double::isFinite), "the warm-up load times must be numbers");
    require(offsetSeconds.values().stream().allMatch(Double::isFinite), "the models' load-time offsets must be numbers");
    warmupSeconds = List.copyOf(warmupSeconds);
    relative = deviations(relative);
    offsetSeconds = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(offsetSeconds));
    java.util.TreeMap<String, List<Double>> own = new java.util.TreeMap<>();
    relativeByModel.forEach((model, values) -> {
      if (!values.isEmpty()) {
        own.put(model, deviations(values));
      }
    });
    relativeByModel = java.util.Collections.unmodifiableMap(own);
  }

  /** True when loads take the line exactly. */
  public boolean isNone() {
    return warmupSeconds.isEmpty() && relative.isEmpty() && offsetSeconds.isEmpty() && relativeByModel.isEmpty();
  }

  /** {@code values} checked (a load can be at most 100 % faster than usual) and sorted. */
  private static List<Double> deviations(List<Double> values) {
    require(values.stream().allMatch(r -> Double.isFinite(r) && r >= -1), "the relative load spread must be numbers of at least -1");
    return values.stream().sorted().toList();
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new io.mlxcap.InvalidInputException(message);
    }
  }
}
