package io.mlxcap.sweep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The front {@link Pareto#front} marks equals the definition, checked by brute force: a point is on
 * the front when no other point is at least as small on both figures and smaller on one. Small value
 * ranges make ties and duplicates common.
 */
final class ParetoProperties {

  @Property(tries = 1000)
  void front_equalsTheDefinition(@ForAll @Size(max = 40) List<@IntRange(min = 0, max = 6) Integer> xs,
      @ForAll @Size(max = 40) List<@IntRange(min = 0, max = 6) Integer> ys) {
    int n = Math.min(xs.size(), ys.size());
    List<double[]> points = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      points.add(new double[] {xs.get(i), ys.get(i)});
    }
    boolean[] expected = new boolean[n];
    for (int i = 0; i < n; i++) {
      expected[i] = true;
      for (int j = 0; j < n; j++) {
        double[] a = points.get(j);
        double[] b = points.get(i);
        if (a[0] <= b[0] && a[1] <= b[1] && (a[0] < b[0] || a[1] < b[1])) {
          expected[i] = false;
        }
      }
    }
    assertArrayEquals(expected, Pareto.frontOf(points), () -> describe(points));
  }

  private static String describe(List<double[]> points) {
    StringBuilder b = new StringBuilder();
    points.forEach(p -> b.append('(').append(p[0]).append(',').append(p[1]).append(") "));
    return b.toString();
  }
}
