package io.mlxcap.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** The Pareto front of a set of items on two figures, both to be made small. */
public final class Pareto {
  private Pareto() {}

  /**
   * Marks the items no other item beats: none is at least as small on both figures and smaller on
   * one. Items with equal figures are on the front together. O(n log n): sorted by x then y, an item
   * is on the front when its y is below every y before it.
   */
  public static <T> boolean[] front(List<T> items, ToDoubleFunction<T> x, ToDoubleFunction<T> y) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.<Integer>comparingDouble(i -> x.applyAsDouble(items.get(i)))
        .thenComparingDouble(i -> y.applyAsDouble(items.get(i))));
    boolean[] onFront = new boolean[items.size()];
    double bestY = Double.POSITIVE_INFINITY;
    double frontX = Double.NaN;
    double frontY = Double.NaN;
    for (int i : order) {
      double px = x.applyAsDouble(items.get(i));
      double py = y.applyAsDouble(items.get(i));
      if (py < bestY) {
        onFront[i] = true;
        bestY = py;
        frontX = px;
        frontY = py;
      } else if (px == frontX && py == frontY) {
        onFront[i] = true;
      }
    }
    return onFront;
  }

  /** The front of plain points {@code {x, y}}. */
  static boolean[] frontOf(List<double[]> points) {
    return front(points, p -> p[0], p -> p[1]);
  }

  /** Peak RSS (high bound) against cold-start wait p95. */
  public static boolean[] peakVersusColdP95(List<Row> rows) {
    return front(rows, r -> r.peak().high(), Row::coldP95);
  }

  /** Peak RSS (high bound) against loads per hour. */
  public static boolean[] peakVersusLoads(List<Row> rows) {
    return front(rows, r -> r.peak().high(), Row::loadsPerHour);
  }
}
