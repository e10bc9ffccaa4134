package io.mlxcap.sim;

import static io.mlxcap.sim.SimulationTest.HOST;
import static io.mlxcap.sim.SimulationTest.TABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceReader;
import io.mlxcap.workload.ArrivalProcess;
import io.mlxcap.workload.Workload;
import io.mlxcap.workload.WorkloadSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one-pass curve equals a full simulation at every cap. */
final class LruCurveTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  private static RequestSource.InMemory committed(String name) {
    try (TraceReader reader = TraceReader.open(REPO.resolve(name), TraceReader.Mode.STRICT)) {
      return RequestSource.InMemory.of(RequestSource.of(reader));
    }
  }

  private static RequestSource.InMemory synthetic(long seed, Map<String, Double> mix) {
    RequestSource.InMemory trace = new RequestSource.InMemory();
    WorkloadSpec spec = new WorkloadSpec(ArrivalProcess.Kind.ON_OFF, 0.05, Duration.ofMinutes(5), Duration.ofMinutes(20),
        0.8, 14, Duration.ofDays(2), mix, new WorkloadSpec.TokenDistribution(300, 1), new WorkloadSpec.TokenDistribution(100, 1),
        seed);
    Workload.generate(spec, TABLE, r -> {
      RequestSource.Arrival a = new RequestSource.Arrival();
      a.timeNanos = r.timeNanos();
      a.model = r.model();
      a.promptTokens = r.promptTokens();
      a.outputTokens = r.outputTokens();
      a.serviceNanos = r.serviceNanos();
      trace.add(a);
    });
    return trace;
  }

  /** Loads of a full simulation under pure count-LRU at {@code cap}. */
  private static long simulated(RequestSource.InMemory trace, int cap, String preload, String interval) {
    Settings settings = Settings.fromEnv(Map.of("MLX_MAX_CACHED_MODELS", Integer.toString(cap),
        "MLX_PRELOAD_MODELS", preload, "MLX_CACHE_CLEANUP_INTERVAL_SEC", interval,
        "MLX_MEMORY_PRESSURE_THRESHOLD", "off", "MLX_MAX_QUEUE", "1000000"), TABLE);
    SimResult r = new Simulation(settings, TABLE, HOST, SizeRange.Estimate.EXPECTED, Long.MAX_VALUE).run(trace.replay());
    assertEquals(0, r.rejectedQueueFull(), "the curve's premise: nobody refused");
    return r.totalLoads();
  }

  private static void assertCurveMatches(RequestSource.InMemory trace, String preload) {
    List<String> preloadModels = Settings.fromEnv(Map.of("MLX_PRELOAD_MODELS", preload), TABLE).preloadModels();
    LruCurve.Result curve = LruCurve.compute(trace.replay(), preloadModels, TABLE);
    for (int cap = 1; cap <= 5; cap++) {
      assertEquals(simulated(trace, cap, preload, "0"), curve.loadsAt(cap), "cap " + cap + ", preload '" + preload + "'");
      if (cap >= preloadModels.size()) {
        assertEquals(simulated(trace, cap, preload, "600"), curve.loadsAt(cap), "cap " + cap + " with cleanup ticks");
      }
    }
  }

  @Test
  void seedScenario_everyCap_everyPreload() {
    RequestSource.InMemory trace = committed("traces/samples/seed-scenario.jsonl");
    for (String preload : List.of("", "fast", "default,fast", "command-r-plus:104b,reasoning,default")) {
      assertCurveMatches(trace, preload);
    }
  }

  @Test
  void azure_twoModels() {
    RequestSource.InMemory trace = committed("traces/public/azure-2023-code-conv.jsonl");
    assertCurveMatches(trace, "");
    assertCurveMatches(trace, "default,fast");
  }

  @Test
  void syntheticMixes() {
    for (long seed = 1; seed <= 4; seed++) {
      assertCurveMatches(synthetic(seed, Workload.zipf(List.of("fast", "default", "reasoning", "command-r-plus:104b"), 0.8)),
          seed % 2 == 0 ? "fast" : "");
    }
    assertCurveMatches(synthetic(9, Map.of("reasoning", 1.0, "fast", 1.0)), "default,fast");
  }

  @Test
  void handWorked() {
    RequestSource.InMemory trace = SimulationTest.trace(
        0.0, "fast", 0, 0, 1.0,
        10.0, "default", 0, 0, 1.0,
        20.0, "fast", 0, 0, 1.0,
        30.0, "reasoning", 0, 0, 1.0,
        40.0, "default", 0, 0, 1.0);
    LruCurve.Result curve = LruCurve.compute(trace.replay(), List.of(), TABLE);
    // depths: fast new, default new, fast 2, reasoning new, default 3.
    assertEquals(5, curve.loadsAt(1));
    assertEquals(4, curve.loadsAt(2));
    assertEquals(3, curve.loadsAt(3));
    assertEquals(3, curve.loadsAt(9));
  }
}
