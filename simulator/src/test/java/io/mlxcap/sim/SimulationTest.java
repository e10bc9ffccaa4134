package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceEvent;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Small traces whose every number can be worked out by hand. */
final class SimulationTest {
  static final ModelTable TABLE = ModelTable.defaults();
  static final HostProfile HOST = new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0);
  private static final long S = 1_000_000_000L;

  static Settings settings(String... env) {
    Map<String, String> map = new HashMap<>(Map.of("MLX_PRELOAD_MODELS", "", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "0",
        "MLX_MEMORY_PRESSURE_THRESHOLD", "off"));
    for (int i = 0; i < env.length; i += 2) {
      map.put(env[i], env[i + 1]);
    }
    return Settings.fromEnv(map, TABLE);
  }

  static RequestSource.InMemory trace(Object... requests) {
    RequestSource.InMemory trace = new RequestSource.InMemory();
    for (int i = 0; i < requests.length; i += 5) {
      RequestSource.Arrival a = new RequestSource.Arrival();
      a.timeNanos = (long) ((double) requests[i] * S);
      a.model = (String) requests[i + 1];
      a.promptTokens = (int) requests[i + 2];
      a.outputTokens = (int) requests[i + 3];
      a.serviceNanos = requests[i + 4] == null ? TraceEvent.UNKNOWN : (long) ((double) requests[i + 4] * S);
      trace.add(a);
    }
    return trace;
  }

  static SimResult run(Settings settings, RequestSource.InMemory trace) {
    return new Simulation(settings, TABLE, HOST, SizeRange.Estimate.EXPECTED, 100_000_000_000L).run(trace.replay());
  }

  @Test
  void coldThenHitThenAnotherCold_byHand() {
    SimResult r = run(settings("MLX_MAX_CACHED_MODELS", "2"), trace(
        0.0, "fast", 100, 100, 2.0,
        10.0, "fast", 100, 100, 1.0,
        20.0, "default", 100, 100, 5.0));
    // fast loads in 1 s + 2.75 GB / 2 GB/s = 2.375 s; default in 1 s + 22.5 / 2 = 12.25 s.
    assertEquals(3, r.requests());
    assertEquals(3, r.served());
    assertEquals(1, r.hits());
    assertEquals(2, r.coldStarts());
    assertEquals(Map.of("request", 2L, "preload", 0L, "manual", 0L), r.loads());
    assertEquals(12_250_000_000L, r.coldWait().max());
    assertEquals(17_250_000_000L, r.latency().max(), "12.25 s cold + 5 s service");
    assertEquals(37_250_000_000L, r.endNanos());
    long kvDefault = 200L * 262_144;
    long kvFast = 200L * 393_216;
    assertEquals(1_000_000_000L + 2_750_000_000L + 22_500_000_000L + kvDefault, r.peakRssBytes());
    assertEquals(32_250_000_000L, r.peakAtNanos());
    double integral = 3.75e9 * 37.25 + kvFast * (2.0 + 1.0) + 22.5e9 * 17.25 + kvDefault * 5.0;
    assertEquals(integral / 37.25, r.meanRssBytes(), 1.0);
    assertEquals(0, r.aboveLineNanos());
    assertEquals(1, r.models().get(0).hits());
    assertEquals(2_375_000_000L, r.models().get(0).coldWait().max());
  }

  /**
   * llama.cpp's router spawns a child without looking at free memory: on a 48 GiB host with 8 GiB
   * taken by others, fast and default fit and reasoning does not, so its load fails and its request is
   * refused (models-max 4 evicts nothing); mlx on the same host loads it and goes over (no failure:
   * the pressure rule or swap deals with that).
   */
  @Test
  void underLlamaRouter_aLoadThatDoesNotFitFails_andItsRequestIsRefused() {
    HostProfile small = new HostProfile(48L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0);
    RequestSource.InMemory requests = trace(
        0.0, "fast", 0, 0, 1.0,
        10.0, "default", 0, 0, 1.0,
        40.0, "reasoning", 0, 0, 1.0,
        90.0, "fast", 0, 0, 1.0);
    Settings router = Settings.fromEnv(io.mlxcap.settings.ServerPolicy.LLAMA_ROUTER, Map.of(), TABLE);
    SimResult r = new Simulation(router, TABLE, small, SizeRange.Estimate.EXPECTED, 100_000_000_000L).run(requests.replay());
    assertEquals(1, r.loadsFailed());
    assertEquals(1, r.rejectedLoadFailed());
    assertEquals(3, r.served());
    assertEquals(1, r.hits(), "fast is still resident after the failed load");
    assertEquals((48L << 30) - (8L << 30), r.peakRssBytes(), "the failing load held all the memory that was free, no more");
    SimResult mlx = new Simulation(settings(), TABLE, small, SizeRange.Estimate.EXPECTED, 100_000_000_000L)
        .run(requests.replay());
    assertEquals(0, mlx.loadsFailed());
    assertEquals(4, mlx.served());
  }

  @Test
  void serviceFromTokensWhenNotRecorded_andDefaultsWhenUnknown() {
    SimResult r = run(settings(), trace(0.0, "fast", 2000, 100, null));
    // 2.375 s load, then 2000 / 2000 + 100 / 100 = 2 s of service.
    assertEquals(4_375_000_000L, r.latency().max());
    SimResult unknown = run(settings(), trace(0.0, "fast", -1, -1, null));
    // 512 / 2000 + 256 / 100 = 2.816 s of service.
    assertEquals(2_375_000_000L + 2_816_000_000L, unknown.latency().max());
  }

  @Test
  void oneWorker_queuesInArrivalOrder_andRefusesPastTheQueue() {
    SimResult r = run(settings("MLX_MAX_QUEUE", "1"), trace(
        0.0, "fast", 0, 0, 10.0,
        1.0, "fast", 0, 0, 10.0,
        2.0, "fast", 0, 0, 10.0));
    assertEquals(1, r.rejectedQueueFull(), "one serving, one waiting, the third refused");
    assertEquals(2, r.served());
    assertEquals(2_375_000_000L + 10_000_000_000L - 1_000_000_000L, r.queueWait().max());
  }

  @Test
  void twoWorkers_joinOneLoad() {
    SimResult r = run(settings("MLX_MAX_CONCURRENT_REQUESTS", "2"), trace(
        0.0, "default", 0, 0, 1.0,
        1.0, "default", 0, 0, 1.0));
    assertEquals(1, r.totalLoads(), "the second request joins the load in progress");
    assertEquals(2, r.coldStarts());
    assertEquals(11.25e9, r.coldWait().quantile(0.5), 11.25e9 / 128, "12.25 s load, joined 1 s in (to bucket precision)");
    assertEquals(12_250_000_000L, r.coldWait().max());
  }

  // Processor sharing worked by hand. fast (resident from a preload) gets two requests of 2 s of solo
  // work, the second 1 s after the first, with each other generation adding half a solo time: alone the
  // first does 1 s of work in [0, 1]; together each goes at 1 / 1.5, so the first's last second takes
  // 1.5 s (it ends at 2.5), the second has done 1 s by then and finishes its last second alone (3.5).
  @Test
  void sharedCores_slowOverlappingGenerations_byHand() {
    HostProfile shared = new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0, LoadSpread.NONE, 0,
        new ServiceContention(0.5, Map.of()));
    Settings two = settings("MLX_MAX_CONCURRENT_REQUESTS", "2", "MLX_PRELOAD_MODELS", "fast");
    // 2 s of solo work each: 4000 prompt tokens at 2000/s, or 200 output tokens at 100/s.
    RequestSource.InMemory requests = trace(10.0, "fast", 4000, 0, null, 11.0, "fast", 0, 200, null);
    SimResult r = new Simulation(two, TABLE, shared, SizeRange.Estimate.EXPECTED, 100_000_000_000L).run(requests.replay());
    assertEquals(2, r.hits());
    assertEquals(2_500_000_000L, r.latency().max(), "each: the first 1 s alone and 1 s of work at 2/3 speed; the second"
        + " 1 s of work in the 1.5 s shared, then 1 s alone");
    assertEquals(2.5e9, r.latency().mean(), 1, "both take 2.5 s");
    SimResult alone = new Simulation(two, TABLE, HOST, SizeRange.Estimate.EXPECTED, 100_000_000_000L).run(requests.replay());
    assertEquals(2_000_000_000L, alone.latency().max(), "without the contention term each takes its solo time");
    // A cold service takes its model's extra: 2.375 s load, then 1 s + 0.3 s.
    HostProfile cold = new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0, LoadSpread.NONE, 0,
        new ServiceContention(0, Map.of("phi3.5:3.8b", 0.3)));
    SimResult c = new Simulation(settings(), TABLE, cold, SizeRange.Estimate.EXPECTED, 100_000_000_000L)
        .run(trace(0.0, "fast", 2000, 0, null, 10.0, "fast", 2000, 0, null).replay());
    assertEquals(2_375_000_000L + 1_300_000_000L, c.latency().max(), "the cold one");
    assertEquals((3.675e9 + 1e9) / 2, c.latency().mean(), 1, "the warm one: its 1 s");
  }

  // A calibrated delay per evicted byte: a load that had to evict waits for the freeing too; one that
  // evicted nothing does not.
  @Test
  void loadAfterAnEviction_takesTheDelayForTheBytesEvicted() {
    HostProfile slowed = new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0,
        LoadSpread.NONE, 1e-10); // 100 ms per GB evicted
    SimResult r = new Simulation(settings("MLX_MAX_CACHED_MODELS", "1"), TABLE, slowed, SizeRange.Estimate.EXPECTED,
        100_000_000_000L).run(trace(0.0, "fast", 0, 0, 1.0, 10.0, "default", 0, 0, 1.0).replay());
    // fast: 1 s + 2.75 GB / 2 GB/s = 2.375 s, nothing evicted; default: 1 s + 22.5 / 2 = 12.25 s, plus
    // 2.75 GB evicted × 0.1 s/GB = 0.275 s.
    assertEquals(2_375_000_000L, r.models().get(0).coldWait().max());
    assertEquals(12_525_000_000L, r.coldWait().max());
  }

  // A calibrated warm-up: the process's first load takes it on top of the line; the next does not.
  @Test
  void firstLoad_takesTheWarmUp() {
    HostProfile warming = new HostProfile(128L << 30, 8L << 30, 1_000_000_000L, 2e9, Duration.ofSeconds(1), 0, 0,
        new LoadSpread(List.of(0.5), List.of(), Map.of()), 0);
    SimResult r = new Simulation(settings("MLX_MAX_CACHED_MODELS", "1"), TABLE, warming, SizeRange.Estimate.EXPECTED,
        100_000_000_000L).run(trace(0.0, "fast", 0, 0, 1.0, 10.0, "default", 0, 0, 1.0).replay());
    assertEquals(2_875_000_000L, r.models().get(0).coldWait().max(), "fast: 2.375 s on the line + 0.5 s of warm-up");
    assertEquals(12_250_000_000L, r.coldWait().max(), "default: its line, 12.25 s");
  }

  @Test
  void budget_tooLarge_isRejected_andCounted() {
    SimResult r = run(settings("MLX_MAX_CACHE_BYTES", "60GB"), trace(0.0, "command-r-plus:104b", 0, 0, 1.0,
        1.0, "fast", 0, 0, 1.0));
    assertEquals(1, r.rejectedTooLarge());
    assertEquals(1, r.served());
  }

  @Test
  void pressureRule_firesAfterALoadAboveTheLine() {
    // 128 GiB host, 8 GiB others: 0.95 × 137.4 = 130.6 GB; the four models are 135.25 GB.
    Settings s = settings("MLX_MAX_CACHED_MODELS", "off", "MLX_MEMORY_PRESSURE_THRESHOLD", "0.95");
    SimResult r = run(s, trace(0.0, "fast", 0, 0, 1.0, 10.0, "default", 0, 0, 1.0, 30.0, "reasoning", 0, 0, 1.0,
        60.0, "command-r-plus:104b", 0, 0, 1.0));
    assertEquals(Map.of("max_models", 0L, "cleanup", 0L, "idle_ttl", 0L, "pressure", 2L, "budget", 0L, "manual", 0L),
        r.evictions(), "fast alone frees too little; fast and default bring use under the line");
    assertEquals(1_000_000_000L + 135_250_000_000L, r.peakRssBytes());
  }

  @Test
  void unknownModel_oneSentence() {
    InvalidInputException e = assertThrows(InvalidInputException.class,
        () -> run(settings(), trace(1.5, "gpt-4", 0, 0, 1.0)));
    assertEquals("a request at t_ms 1500.0 asks for model 'gpt-4', which is not in the model table; known models:"
        + " phi3.5:3.8b (fast), qwen2.5-coder:32b (default), deepseek-r1-distill-llama:70b (reasoning),"
        + " command-r-plus:104b", e.getMessage());
  }

  @Test
  void sizeEstimates_giveLowExpectedHighPeaks() {
    Prediction p = Prediction.of(settings(), TABLE, HOST, 100_000_000_000L,
        () -> trace(0.0, "reasoning", 0, 0, 1.0).replay());
    assertEquals(41_000_000_000L, p.low().peakRssBytes());
    assertEquals(46_000_000_000L, p.expected().peakRssBytes());
    assertEquals(51_000_000_000L, p.high().peakRssBytes());
  }

  @Test
  void keepAlive_fromTheTrace_isTheCoresRule() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("keep-alive", ".jsonl");
    try {
      java.nio.file.Files.writeString(file, String.join("\n",
          "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\",\"service_ms\":1000,\"keep_alive_ms\":0}",
          "{\"type\":\"request\",\"t_ms\":10000,\"model\":\"fast\",\"service_ms\":1000,\"keep_alive_ms\":0}",
          "{\"type\":\"request\",\"t_ms\":20000,\"model\":\"fast\",\"service_ms\":1000}",
          "{\"type\":\"request\",\"t_ms\":30000,\"model\":\"fast\",\"service_ms\":1000}", ""));
      RequestSource.InMemory trace = RequestSource.InMemory.read(file, io.mlxcap.trace.TraceReader.Mode.STRICT);
      SimResult r = run(settings(), trace);
      assertEquals(3, r.totalLoads(), "keep_alive 0 unloads after each of the first two; the third stays for the fourth");
      assertEquals(2L, r.evictions().get("idle_ttl"));
      assertEquals(3, r.coldStarts());
    } finally {
      java.nio.file.Files.delete(file);
    }
  }

  @Test
  void pastTheModelsContext_isRefusedBeforeItWaits_asTheServerRefusesIt() {
    // qwen2.5-coder:32b ("default") takes 32,768 tokens of prompt + output.
    SimResult r = run(settings(), trace(
        0.0, "default", 30_000, 2_768, 1.0,
        1.0, "default", 30_000, 2_769, 1.0));
    assertEquals(1, r.rejectedOverContext());
    assertEquals(1, r.served());
    assertEquals(2, r.requests());
    assertEquals(java.util.Optional.empty(), TABLE.resolve("default").contextExceeded(30_000, 2_768));
    assertEquals("this request needs 32769 tokens (30000 of prompt + 2769 to generate), more than the 32768-token"
        + " context of qwen2.5-coder:32b", TABLE.resolve("default").contextExceeded(30_000, 2_769).orElseThrow());
  }
}
