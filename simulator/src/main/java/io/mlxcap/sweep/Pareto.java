package io.mlxcap.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** The Pareto front of rows on two figures, both to be made small. */
public final class Pareto {
  private Pareto() {}

  /**
   * Marks the rows no other row beats: none is at least as small on both figures and smaller on one.
   * Rows with equal figures are on the front together.
   */
  public static boolean[] front(List<Row> rows, ToDoubleFunction<Row> x, ToDoubleFunction<Row> y) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.<Integer>comparingDouble(i -> x.applyAsDouble(rows.get(i)))
        .thenComparingDouble(i -> y.applyAsDouble(rows.get(i))));
    boolean[] onFront = new boolean[rows.size()];
    double bestY = Double.POSITIVE_INFINITY;
    double frontX = Double.NaN;
    double frontY = Double.NaN;
    for (int i : order) {
      double px = x.applyAsDouble(rows.get(i));
      double py = y.applyAsDouble(rows.get(i));
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

  /** Peak RSS (high bound) against cold-start wait p95. */
  public static boolean[] peakVersusColdP95(List<Row> rows) {
    return front(rows, r -> r.peak().high(), Row::coldP95);
  }

  /** Peak RSS (high bound) against loads per hour. */
  public static boolean[] peakVersusLoads(List<Row> rows) {
    return front(rows, r -> r.peak().high(), Row::loadsPerHour);
  }
}
