package io.mlxcap.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.trace.TraceEvent.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class WorkloadTest {
  private static final ModelTable TABLE = ModelTable.defaults();
  private static final WorkloadSpec.TokenDistribution TOKENS = new WorkloadSpec.TokenDistribution(500, 1.0);

  private static WorkloadSpec spec(ArrivalProcess.Kind kind, double rate, Duration duration, Map<String, Double> mix, long seed) {
    return new WorkloadSpec(kind, rate, Duration.ofMinutes(5), Duration.ofMinutes(20), 0.8, 14, duration, mix, TOKENS,
        TOKENS, seed);
  }

  private static List<Request> generate(WorkloadSpec spec) {
    List<Request> requests = new ArrayList<>();
    Workload.generate(spec, TABLE, requests::add);
    return requests;
  }

  private static double gapCv(List<Request> requests) {
    double[] gaps = new double[requests.size() - 1];
    double mean = 0;
    for (int i = 1; i < requests.size(); i++) {
      gaps[i - 1] = requests.get(i).timeNanos() - requests.get(i - 1).timeNanos();
      mean += gaps[i - 1];
    }
    mean /= gaps.length;
    double var = 0;
    for (double g : gaps) {
      var += (g - mean) * (g - mean);
    }
    return Math.sqrt(var / (gaps.length - 1)) / mean;
  }

  @Test
  void sameSeed_sameRequests_otherSeed_otherRequests() {
    WorkloadSpec a = spec(ArrivalProcess.Kind.ON_OFF, 1, Duration.ofHours(1), Workload.zipf(List.of("fast", "default"), 1), 7);
    assertEquals(generate(a), generate(a));
    WorkloadSpec b = spec(ArrivalProcess.Kind.ON_OFF, 1, Duration.ofHours(1), Workload.zipf(List.of("fast", "default"), 1), 8);
    assertNotEquals(generate(a), generate(b));
  }

  @Test
  void poisson_rateAndCvNearOne() {
    List<Request> r = generate(spec(ArrivalProcess.Kind.POISSON, 2, Duration.ofHours(2), Map.of("fast", 1.0), 1));
    assertEquals(14_400, r.size(), 4 * Math.sqrt(14_400), "2/s over 2 h");
    assertEquals(1.0, gapCv(r), 0.05);
    for (int i = 1; i < r.size(); i++) {
      assertTrue(r.get(i).timeNanos() >= r.get(i - 1).timeNanos());
    }
    assertTrue(r.get(r.size() - 1).timeNanos() < Duration.ofHours(2).toNanos());
  }

  @Test
  void onOff_isBursty() {
    List<Request> r = generate(spec(ArrivalProcess.Kind.ON_OFF, 2, Duration.ofDays(1), Map.of("fast", 1.0), 1));
    assertTrue(gapCv(r) > 2, "bursts and pauses make gaps far more variable than Poisson: " + gapCv(r));
    assertEquals(2 * 86_400 * 5.0 / 25, r.size(), 0.2 * 2 * 86_400 * 5.0 / 25, "on a fifth of the time");
  }

  @Test
  void diurnal_busiestNearThePeakHour() {
    List<Request> r = generate(spec(ArrivalProcess.Kind.DIURNAL, 1, Duration.ofDays(1), Map.of("fast", 1.0), 1));
    int[] perHour = new int[24];
    r.forEach(q -> perHour[(int) (q.timeNanos() / 3_600_000_000_000L)]++);
    assertEquals(86_400, r.size(), 4 * Math.sqrt(86_400));
    assertEquals(3600 * 1.8, perHour[14], 4 * Math.sqrt(3600 * 1.8), "peak hour at mean × 1.8");
    assertEquals(3600 * 0.2, perHour[2], 4 * Math.sqrt(3600 * 0.2), "12 hours off the peak at mean × 0.2");
  }

  @Test
  void shares_followTheMix_zipfByTableOrder() {
    Map<String, Double> zipf = Workload.zipf(List.of("a", "b", "c"), 1);
    assertEquals(Map.of("a", 1.0, "b", 0.5, "c", 1.0 / 3), zipf);
    List<Request> r = generate(spec(ArrivalProcess.Kind.POISSON, 10, Duration.ofHours(1),
        Map.of("fast", 3.0, "reasoning", 1.0), 3));
    Map<String, Integer> counts = new HashMap<>();
    r.forEach(q -> counts.merge(q.model(), 1, Integer::sum));
    assertEquals(0.75, counts.get("fast") / (double) r.size(), 0.02);
    assertEquals(r.size(), counts.get("fast") + counts.get("reasoning"));
  }

  @Test
  void tokens_logNormalAroundTheMedian() {
    List<Request> r = generate(spec(ArrivalProcess.Kind.POISSON, 10, Duration.ofHours(1), Map.of("fast", 1.0), 4));
    long below = r.stream().filter(q -> q.promptTokens() < 500).count();
    assertEquals(0.5, below / (double) r.size(), 0.02);
    assertTrue(r.stream().allMatch(q -> q.promptTokens() >= 1 && q.promptTokens() <= Workload.MAX_TOKENS));
  }

  @Test
  void badSpecs_oneSentence() {
    assertEquals("unknown model 'gpt'; known models: phi3.5:3.8b (fast), qwen2.5-coder:32b (default),"
            + " deepseek-r1-distill-llama:70b (reasoning), command-r-plus:104b",
        assertThrows(InvalidInputException.class, () -> generate(spec(ArrivalProcess.Kind.POISSON, 1,
            Duration.ofHours(1), Map.of("gpt", 1.0), 1))).getMessage());
    assertEquals("--rate must be a positive number of requests per second, was 0.0",
        assertThrows(InvalidInputException.class, () -> spec(ArrivalProcess.Kind.POISSON, 0, Duration.ofHours(1),
            Map.of("fast", 1.0), 1)).getMessage());
    assertEquals("--prompt-tokens '500' must be MEDIAN:SIGMA, e.g. 512:1.0", assertThrows(InvalidInputException.class,
        () -> WorkloadSpec.TokenDistribution.parse("500", "--prompt-tokens")).getMessage());
  }
}
