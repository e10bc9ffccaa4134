package io.mlxcap.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.calibrate.Validation;
import io.mlxcap.drive.Driver;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The design's central claim under concurrency, on real parts: a real server on a real port, driven
 * with a random workload of overlapping requests (seeded: a failure names its seed), records a trace;
 * its replay with recorded timing (each load, each service and each cleanup tick as the server's)
 * makes the server's loads and evictions, in order, at 1, 2, 4 and 8 workers, with the byte budget,
 * the idle TTL and Ollama keep-alives off and on.
 */
final class ExactReplayTest {
  private static final String[] MODELS = {"phi3.5:3.8b", "qwen2.5-coder:32b", "deepseek-r1-distill-llama:70b",
      "command-r-plus:104b"};
  @TempDir Path dir;

  /** Requests of random models at random gaps (mean 50 ms: they overlap), with keep-alives of 0, 1 s or none when asked. */
  private Path workload(long seed, boolean keepAlives) throws Exception {
    return workload(seed, keepAlives, 50);
  }

  /** 36 requests for random models, {@code meanGapMs} apart on average (Poisson arrivals), some with keep-alives. */
  private Path workload(long seed, boolean keepAlives, double meanGapMs, String... tail) throws Exception {
    Random random = new Random(seed);
    List<String> lines = new ArrayList<>();
    double t = 0;
    for (int i = 0; i < 36; i++) {
      t += -Math.log(1 - random.nextDouble()) * meanGapMs;
      String keep = !keepAlives ? "" : switch (random.nextInt(3)) {
        case 0 -> ",\"keep_alive_ms\":0";
        case 1 -> ",\"keep_alive_ms\":1000";
        default -> "";
      };
      lines.add(String.format(java.util.Locale.ROOT, "{\"type\":\"request\",\"t_ms\":%.3f,\"model\":\"%s\",\"prompt_tokens\":%d,"
          + "\"max_tokens\":%d%s}", t, MODELS[random.nextInt(MODELS.length)], 20 + random.nextInt(200), 2 + random.nextInt(10), keep));
    }
    for (String model : tail) {
      t += 100;
      lines.add(String.format(java.util.Locale.ROOT, "{\"type\":\"request\",\"t_ms\":%.3f,\"model\":\"%s\"}", t, model));
    }
    Path file = dir.resolve("workload-" + seed + ".jsonl");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  @ParameterizedTest(name = "{0} workers, budget/TTL/keep-alive {1}, seed {2}")
  @CsvSource({"1,false,101", "2,false,202", "4,false,303", "8,false,404", "1,true,505", "2,true,606", "4,true,707", "8,true,808"})
  void recordedTiming_makesTheServersDecisions_inOrder(int workers, boolean extras, long seed) throws Exception {
    Path recording = dir.resolve("recorded.jsonl");
    List<String> env = new ArrayList<>(List.of("MLX_MAX_CONCURRENT_REQUESTS", "" + workers, "MLX_PRELOAD_MODELS", "fast",
        "MLX_MEMORY_PRESSURE_THRESHOLD", "off"));
    if (extras) {
      env.addAll(List.of("MLX_MAX_CACHED_MODELS", "3", "MLX_MAX_CACHE_BYTES", "400MB", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "1",
          "MLX_MODEL_IDLE_TTL_SEC", "1"));
    } else {
      env.addAll(List.of("MLX_MAX_CACHED_MODELS", "2", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "1"));
    }
    Driver.Summary seen;
    try (TestServer s = TestServer.start(recording, env.toArray(String[]::new))) {
      Driver driver = new Driver(new Driver.Options(URI.create("http://127.0.0.1:" + s.port),
          extras ? Driver.Api.OLLAMA : Driver.Api.OPENAI, 1, 0, null, 1, dir.resolve("client.jsonl")));
      List<TraceEvent.Request> requests = driver.requests(workload(seed, extras));
      seen = driver.run(requests, i -> { });
      // Idle models go at the next ticks; let two of them run before stopping.
      Thread.sleep(extras ? 2_100 : 0);
      assertEquals(0, s.host.drain(Duration.ofSeconds(30)), "every request had answered");
    }
    assertEquals(seen.sent(), seen.ok(), Driver.describe(seen).toString());
    Validation.Result v = Validation.run(recording, null, Validation.Tolerances.DEFAULT, Validation.Timing.RECORDED);
    String table = String.join("\n", Validation.describe(v, 5, 10)) + "\n(seed " + seed + ")";
    assertEquals(-1, v.firstDivergence(), table);
    assertEquals(0, v.unrecordedLoads(), table);
    assertTrue(v.recorded().size() >= 8, "a run with loads and evictions to compare: " + v.recorded());
    if (extras) {
      assertTrue(v.recorded().stream().anyMatch(d -> d.endsWith(" idle_ttl")), "keep-alives and the TTL evicted: " + v.recorded());
      assertTrue(ticks(recording) >= 2, "the ticks are recorded");
    }
    if (workers > 1) {
      assertTrue(overlapped(recording), "requests were served side by side");
    }
  }

  /**
   * The same identity under Ollama's rules (serve --policy ollama): victims by shortest keep-alive,
   * a request without keep_alive leaving its model's, expiry checked every second, OLLAMA_NUM_PARALLEL
   * workers. The recording's header holds Ollama's variables, and validate replays that policy from it.
   */
  @ParameterizedTest(name = "ollama, {0} parallel, seed {1}")
  @CsvSource({"1,909", "2,1010", "4,1111"})
  void underOllama_recordedTiming_makesTheServersDecisions_inOrder(int parallel, long seed) throws Exception {
    List<String> decisions = replaysExactly(io.mlxcap.settings.ServerPolicy.OLLAMA, seed, "OLLAMA_MAX_LOADED_MODELS", "2",
        "OLLAMA_KEEP_ALIVE", "3s", "OLLAMA_NUM_PARALLEL", "" + parallel);
    assertTrue(decisions.stream().filter(d -> d.contains("max_models")).count() >= 3,
        "the cap made room several times: " + decisions);
  }

  /**
   * Under llama.cpp's router (serve --policy llama-router): the model whose latest request started
   * first goes, --sleep-idle-seconds frees idle models, parallel slots are the workers.
   */
  @ParameterizedTest(name = "llama-router, {0} parallel, seed {1}")
  @CsvSource({"1,1212", "2,1313", "4,1414"})
  void underLlamaRouter_recordedTiming_makesTheServersDecisions_inOrder(int parallel, long seed) throws Exception {
    List<String> decisions = replaysExactly(io.mlxcap.settings.ServerPolicy.LLAMA_ROUTER, seed, "models-max", "2",
        "sleep-idle-seconds", "1", "parallel", "" + parallel);
    assertTrue(decisions.stream().filter(d -> d.contains("max_models")).count() >= 3,
        "the cap made room several times: " + decisions);
  }

  /**
   * Under LM Studio's rules (serve --policy lmstudio): Auto-Evict keeps one model loaded on demand,
   * the one loaded with lms load stays through all of it, requests' TTLs expire the others.
   */
  @ParameterizedTest(name = "lmstudio, {0} predictions at once, seed {1}")
  @CsvSource({"1,1515", "2,1616", "4,1717"})
  void underLmStudio_recordedTiming_makesTheServersDecisions_inOrder(int parallel, long seed) throws Exception {
    List<String> decisions = replaysExactly(io.mlxcap.settings.ServerPolicy.LMSTUDIO, seed, "auto-evict", "on",
        "idle-ttl", "2s", "max-concurrent-predictions", "" + parallel, "lms-load", "fast");
    assertTrue(decisions.stream().filter(d -> d.contains("max_models")).count() >= 3,
        "Auto-Evict made room several times: " + decisions);
    assertTrue(decisions.stream().noneMatch(d -> d.contains("phi3.5") && d.startsWith("evict")),
        "the model loaded by hand stayed: " + decisions);
  }

  /**
   * Under llama-swap's groups (serve --policy llama-swap): fast and default share a group that neither
   * swaps nor is exclusive, the others are in the default group (swap, exclusive); each waiter goes
   * on its own; no worker pool; fast has a ttl of its own (3 s against the global 1 s).
   */
  @ParameterizedTest(name = "llama-swap, seed {0}")
  @CsvSource({"1818", "1919"})
  void underLlamaSwap_recordedTiming_makesTheServersDecisions_inOrder(long seed) throws Exception {
    // The tail makes a swap certain whatever the loads' timing: reasoning (the exclusive default group)
    // comes 100 ms after fast, which is then loading, serving or idle, and must go either way.
    List<String> decisions = replaysExactly(io.mlxcap.settings.ServerPolicy.LLAMA_SWAP, seed, 50, List.of("fast", "reasoning"),
        "groups",
        "pair[no-swap,no-exclusive]=fast,default", "globalTTL", "1", "concurrencyLimit", "64", "ttl", "fast=3");
    assertTrue(decisions.stream().anyMatch(d -> d.endsWith(" swap")), "groups swapped: " + decisions);
  }

  /**
   * Under LocalAI's loader (serve --policy localai): at most two backends, fast pinned (counted, never
   * stopped), a load whose room busy models hold retries twice half a second apart and then loads past
   * the limit, the idle watchdog stops idle models (checked every 100 ms); the watchdog's ticks are in the
   * recording, so a load past the limit replays at the same tick.
   */
  @ParameterizedTest(name = "localai, idle timeout {1}, seed {0}")
  @CsvSource({"2020,300ms", "2121,600ms"})
  void underLocalAi_recordedTiming_makesTheServersDecisions_inOrder(long seed, String idle) throws Exception {
    // Spread out (300 ms apart on average): with every request at once, all four models load at once, past
    // the limit (loads in progress do not make a load wait), and stay.
    List<String> decisions = replaysExactly(io.mlxcap.settings.ServerPolicy.LOCALAI, seed, 300, List.of(),
        "LOCALAI_MAX_ACTIVE_BACKENDS", "2", "LOCALAI_LRU_EVICTION_MAX_RETRIES", "2",
        "LOCALAI_LRU_EVICTION_RETRY_INTERVAL", "500ms", "LOCALAI_WATCHDOG_IDLE", "true",
        "LOCALAI_WATCHDOG_IDLE_TIMEOUT", idle, "LOCALAI_WATCHDOG_INTERVAL", "100ms", "LOCALAI_MAX_CONCURRENT_BACKEND_REQUESTS", "64", "pinned", "fast");
    // Whether a load goes past the limit depends on the real loads' timing (CliTest shows it on a fixed
    // timeline); that the replay makes the same decisions, whichever happened, is what this proves.
    assertTrue(decisions.stream().anyMatch(d -> d.contains("max_models")), "the limit made room: " + decisions);
    assertTrue(decisions.stream().noneMatch(d -> d.contains("phi3.5") && d.startsWith("evict")),
        "the pinned model stayed: " + decisions);
  }

  /**
   * Records the workload of {@code seed} on a real server under {@code policy} with {@code env}, then
   * requires the replay with recorded timing to make the same decisions in the same order; returns them.
   */
  private List<String> replaysExactly(io.mlxcap.settings.ServerPolicy policy, long seed, String... env) throws Exception {
    return replaysExactly(policy, seed, 50, List.of(), env);
  }

  /** The same, with requests for {@code tail} 100 ms apart after the random ones. */
  private List<String> replaysExactly(io.mlxcap.settings.ServerPolicy policy, long seed, double meanGapMs, List<String> tail,
      String... env) throws Exception {
    Path recording = dir.resolve("recorded-" + policy.id() + ".jsonl");
    Driver.Summary seen;
    try (TestServer s = TestServer.start(recording, env)) {
      assertEquals(policy, s.host.settings().policy());
      Driver driver = new Driver(new Driver.Options(URI.create("http://127.0.0.1:" + s.port), Driver.Api.OLLAMA, 1, 0,
          null, 1, dir.resolve("client.jsonl")));
      seen = driver.run(driver.requests(workload(seed, true, meanGapMs, tail.toArray(String[]::new))), i -> { });
      assertEquals(0, s.host.drain(Duration.ofSeconds(30)), "every request had answered");
    }
    assertEquals(seen.sent(), seen.ok(), Driver.describe(seen).toString());
    try (TraceReader r = TraceReader.open(recording, TraceReader.Mode.STRICT)) {
      assertEquals(java.util.Set.copyOf(policy.variables()), r.header().settings().keySet());
    }
    Validation.Result v = Validation.run(recording, null, Validation.Tolerances.DEFAULT, Validation.Timing.RECORDED);
    String table = String.join("\n", Validation.describe(v, 5, 10)) + "\n(" + policy.id() + ", seed " + seed + ")";
    assertEquals(-1, v.firstDivergence(), table);
    assertEquals(0, v.unrecordedLoads(), table);
    return v.recorded();
  }

  private static long ticks(Path recording) {
    long n = 0;
    long end = 0;
    long last = 0;
    try (TraceReader r = TraceReader.open(recording, TraceReader.Mode.STRICT)) {
      for (TraceEvent e = r.next(); e != null; e = r.next()) {
        if (e instanceof TraceEvent.Tick t) {
          n++;
          last = t.timeNanos();
        } else {
          end = Math.max(end, e.timeNanos());
        }
      }
    }
    assertTrue(last <= end, "tick lines are in the trace's time: the last at " + last + " ns, the trace ends at " + end);
    return n;
  }

  /** Whether two services overlapped in the recording. */
  private static boolean overlapped(Path recording) {
    List<long[]> spans = new ArrayList<>();
    try (TraceReader r = TraceReader.open(recording, TraceReader.Mode.STRICT)) {
      for (TraceEvent e = r.next(); e != null; e = r.next()) {
        if (e instanceof TraceEvent.RequestDone d && d.serviceNanos() != TraceEvent.UNKNOWN) {
          spans.add(new long[] {d.timeNanos() - d.serviceNanos(), d.timeNanos()});
        }
      }
    }
    for (long[] a : spans) {
      for (long[] b : spans) {
        if (a != b && a[0] < b[1] && b[0] < a[1]) {
          return true;
        }
      }
    }
    return false;
  }
}
