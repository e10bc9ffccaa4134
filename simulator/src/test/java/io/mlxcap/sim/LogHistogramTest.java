package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class LogHistogramTest {

  @Test
  void buckets_coverEveryValue_andBoundsAreTight() {
    for (long v : new long[] {0, 1, 127, 128, 129, 255, 256, 1_000_000_007L, Long.MAX_VALUE / 3, Long.MAX_VALUE}) {
      int i = LogHistogram.index(v);
      assertTrue(LogHistogram.upperBound(i) >= v, "bound of " + v);
      assertTrue(i == 0 || LogHistogram.upperBound(i - 1) < v, "previous bound of " + v);
    }
  }

  @Test
  void quantiles_within0_8Percent_ofExact() {
    Random random = new Random(1);
    long[] values = new long[100_000];
    LogHistogram h = new LogHistogram();
    for (int i = 0; i < values.length; i++) {
      values[i] = (long) (Math.exp(random.nextGaussian() * 2 + 20));
      h.record(values[i]);
    }
    Arrays.sort(values);
    for (double q : new double[] {0.5, 0.9, 0.95, 0.99, 0.999}) {
      long exact = values[(int) Math.ceil(q * values.length) - 1];
      long got = h.quantile(q);
      assertTrue(got >= exact && got <= exact * 1.008, q + ": " + got + " vs " + exact);
    }
    assertEquals(values[values.length - 1], h.max());
    assertEquals(values[values.length - 1], h.quantile(1.0));
    assertEquals(0, new LogHistogram().quantile(0.5));
  }
}
