package io.mlxcap.calibrate;

import java.util.ArrayList;
import java.util.List;

/** The few robust statistics the fitters share. */
final class Stats {
  private Stats() {}

  static double round6(double value) {
    return Math.round(value * 1e6) / 1e6;
  }

  /**
   * Theil–Sen: the median of the slopes between every two points with different x, then the median
   * of y − slope × x; {intercept, slope}, or null when no two x differ.
   */
  static double[] theilSen(double[] x, double[] y) {
    List<Double> slopes = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      for (int j = i + 1; j < x.length; j++) {
        if (x[i] != x[j]) {
          slopes.add((y[j] - y[i]) / (x[j] - x[i]));
        }
      }
    }
    if (slopes.isEmpty()) {
      return null;
    }
    double slope = medianOf(slopes);
    List<Double> intercepts = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      intercepts.add(y[i] - slope * x[i]);
    }
    return new double[] {medianOf(intercepts), slope};
  }

  static double medianOf(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  /** The median of {@code values}, rounded to a whole number. */
  static double median(List<Long> values) {
    return Math.round(medianOf(values.stream().map(Long::doubleValue).toList()));
  }
}
