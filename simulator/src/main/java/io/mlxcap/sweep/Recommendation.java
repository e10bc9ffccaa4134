package io.mlxcap.sweep;

import io.mlxcap.settings.Settings;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration to run: of those whose peak's high bound stays under the budget, the one that
 * refuses the fewest requests, then has the fewest cold starts; ties go to the simpler setting (fewer
 * variables to set away from their defaults), then the lower high peak, then the shorter cold-start
 * p95, then the earlier in the grid.
 */
public final class Recommendation {
  private Recommendation() {}

  /** The recommended row, if any row fits its budget. */
  public static Optional<Row> choose(List<Row> rows, Settings defaults) {
    return rows.stream().filter(Row::fitsBudget).min(order(defaults));
  }

  /** The row closest to fitting: the lowest high peak over its budget. */
  public static Optional<Row> closest(List<Row> rows) {
    return rows.stream().min(Comparator.comparingLong((Row r) -> r.peak().high() - r.budgetBytes())
        .thenComparingInt(Row::index));
  }

  static Comparator<Row> order(Settings defaults) {
    return Comparator.comparingLong(Row::refused)
        .thenComparingLong(Row::coldStarts)
        .thenComparingInt(r -> changes(r.settings(), defaults))
        .thenComparingLong(r -> r.peak().high())
        .thenComparingLong(Row::coldP95)
        .thenComparingInt(Row::index);
  }

  /** How many variables {@code settings} sets away from {@code defaults}. */
  public static int changes(Settings settings, Settings defaults) {
    int n = 0;
    Map<String, String> d = defaults.toEnv();
    for (Map.Entry<String, String> e : settings.toEnv().entrySet()) {
      if (!e.getValue().equals(d.get(e.getKey()))) {
        n++;
      }
    }
    return n;
  }
}
