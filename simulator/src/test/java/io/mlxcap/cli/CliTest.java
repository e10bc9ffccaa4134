package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line as a user meets it: help, exit codes, one-sentence errors, files written. */
final class CliTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void everyCommand_hasHelp() {
    List<String> paths = List.of("", "report", "sweep", "simulate", "drive", "calibrate", "validate", "curve", "import", "import csv", "import jsonl", "import azure-2023", "import mooncake", "models", "models inspect",
        "workload", "workload synth", "workload seed-scenario", "trace", "trace stats", "bench", "bench read", "bench sweep",
        "bench simulate");
    java.io.PrintStream systemErr = System.err;
    java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      for (String path : paths) {
        Result r = run((path + " --help").strip().split(" "));
        assertEquals(0, r.code(), path);
      }
    } finally {
      System.setErr(systemErr);
    }
    // picocli writes a description it cannot format (a lone %) raw, with a warning on System.err.
    assertEquals("", warnings.toString(java.nio.charset.StandardCharsets.UTF_8), "help texts format cleanly");
    for (String path : paths) {
      String[] args = (path + " --help").strip().split(" ");
      Result r = run(args);
      assertEquals(0, r.code(), path);
      assertTrue(r.out().startsWith("Usage: mlxcap" + (path.isEmpty() ? "" : " " + path)), r.out());

    }
    CommandLine root = new CommandLine(new Main());
    int commands = countCommands(root);
    assertEquals(paths.size() + 1, commands, "every command (and help) is in the list above");
  }

  private static int countCommands(CommandLine cli) {
    int n = 1;
    for (CommandLine sub : cli.getSubcommands().values()) {
      n += countCommands(sub);
    }
    return n;
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "trace stats NOPE.jsonl|mlxcap: trace NOPE.jsonl does not exist",
    "workload synth -o OUT --rate -1|mlxcap: --rate must be a positive number of requests per second, was -1.0",
    "workload synth -o OUT --arrivals lumpy|mlxcap: --arrivals must be poisson, on-off or diurnal, was 'lumpy'",
    "workload synth -o OUT --mix gpt=1|mlxcap: unknown model 'gpt'; known models: phi3.5:3.8b (fast),",
    "import csv IN -o OUT --time t --time-format unix|mlxcap: --time-format: unknown time format 'unix'",
    "import mooncake BADGZ -o OUT|mlxcap: input BADGZ ends in .gz but is not gzip data",
    "import mooncake IN -o OUT --size x=lots|mlxcap: --size x=lots: expected a size such as 96GiB",
  })
  void badInput_oneSentenceExitCode2_noStackTrace(String line) throws Exception {
    String[] parts = line.split("\\|");
    Path in = Files.writeString(dir.resolve("in.csv"), "t,p\n1,2\n");
    Path badGzip = Files.writeString(dir.resolve("bad.jsonl.gz"), "{\"timestamp\":1}\n");
    String[] args = parts[0].replace("OUT", dir.resolve("out.jsonl").toString()).replace("IN", in.toString())
        .replace("BADGZ", badGzip.toString()).split(" ");
    Result r = run(args);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith(parts[1].replace("BADGZ", badGzip.toString())), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
  }

  @Test
  void simulate_printsTheSummary_andWritesJsonAndCsv() throws Exception {
    Path trace = dir.resolve("t.jsonl");
    Files.writeString(trace, """
        {"type":"request","t_ms":0,"model":"fast","prompt_tokens":100,"output_tokens":100,"service_ms":2000}
        {"type":"request","t_ms":10000,"model":"default","prompt_tokens":100,"output_tokens":100,"service_ms":5000}
        """);
    Path out = dir.resolve("report");
    Result r = run("simulate", "--trace", trace.toString(), "--set", "MLX_PRELOAD_MODELS=", "-o", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("peak RSS       26.3 GB expected (low 23.6 GB, high 29.1 GB)"), r.out());
    assertTrue(r.out().contains("loads          2 (request 2); evictions 0 (none)"), r.out());
    String json = Files.readString(out.resolve("summary.json"));
    assertTrue(json.contains("\"peak_rss_bytes\" : {\n    \"low\" : 23552428800,"), json);
    assertEquals("model,requests,hits,cold_starts,loads,evictions,cold_wait_p50_s,cold_wait_p95_s,cold_wait_max_s",
        Files.readAllLines(out.resolve("models.csv")).get(0));
    List<String> timeline = Files.readAllLines(out.resolve("timeline.csv"));
    assertEquals("estimate,t_s,rss_bytes_max", timeline.get(0));
    assertTrue(timeline.stream().anyMatch(l -> l.startsWith("low,")) && timeline.stream().anyMatch(l -> l.startsWith("high,")));
    assertTrue(timeline.contains("expected,22.0,26302428800"), "the peak's bin: " + timeline);
    assertEquals("expected,27.0,26302428800", timeline.stream().filter(l -> l.startsWith("expected,")).reduce((a, b) -> b)
        .orElseThrow(), "the window ends when the last request does, not at a later cleanup tick");
  }

  @Test
  void simulate_recordedTrace_replaysTheRecordedServiceTimes() throws Exception {
    Path trace = dir.resolve("recorded.jsonl");
    Files.writeString(trace, """
        {"type":"request","t_ms":0,"id":"r1","model":"fast","prompt_tokens":100,"max_tokens":8}
        {"type":"request_done","t_ms":9000,"id":"r1","status":"ok","queue_ms":0,"load_wait_ms":2000,"service_ms":1234.5}
        """);
    Result r = run("simulate", "--trace", trace.toString(), "--set", "MLX_PRELOAD_MODELS=", "-o", dir.resolve("o").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("service        the recorded service time of 1 served requests"), r.out());
    // 2.375 s to load fast, then the recorded 1.2345 s of service.
    assertTrue(r.out().contains("latency        1: p50 3.610 s, p95 3.610 s, p99 3.610 s, max 3.610 s"), r.out());
  }

  @Test
  void simulate_policy_badInput_oneSentenceEach() throws Exception {
    Path trace = Files.writeString(dir.resolve("p.jsonl"), "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n");
    Result unknown = run("simulate", "--trace", trace.toString(), "--policy", "vllm");
    assertEquals(2, unknown.code());
    assertEquals("mlxcap: --policy vllm: not a policy mlxcap knows; policies: mlx, mlx-seed, ollama, llama-router,"
        + " lmstudio, llama-swap, localai.", unknown.err().strip());
    Result other = run("simulate", "--trace", trace.toString(), "--policy", "ollama", "--set", "MLX_MAX_CACHED_MODELS=3");
    assertEquals(2, other.code());
    assertTrue(other.err().startsWith("mlxcap: --set MLX_MAX_CACHED_MODELS: a setting of policy mlx, not of ollama"
        + " (use --policy mlx); ollama's settings: OLLAMA_MAX_LOADED_MODELS,"), other.err());
    Result seed = run("simulate", "--trace", trace.toString(), "--policy", "mlx-seed", "--set", "MLX_MAX_CACHE_BYTES=64GiB");
    assertTrue(seed.err().startsWith("mlxcap: --set MLX_MAX_CACHE_BYTES: a setting of policy mlx, not of mlx-seed"), seed.err());
    Result value = run("simulate", "--trace", trace.toString(), "--policy", "ollama", "--set", "OLLAMA_KEEP_ALIVE=soon");
    assertEquals(2, value.code());
    assertTrue(value.err().startsWith("mlxcap: OLLAMA_KEEP_ALIVE='soon' is invalid: Ollama reads a duration such as 5m,"),
        value.err());
    assertEquals(1, value.err().strip().lines().count(), value.err());
  }

  @Test
  void simulate_underOllama_speaksOllamasSettings_andEvictsByKeepAlive() throws Exception {
    // fast asks to stay forever, default for 1 min; cap 2: the third model takes default's place
    // under Ollama (shortest keep-alive), fast's under mlx (least recently used).
    Path trace = Files.writeString(dir.resolve("k.jsonl"), String.join("\n",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\",\"keep_alive_ms\":-1}",
        "{\"type\":\"request\",\"t_ms\":20000,\"model\":\"default\",\"keep_alive_ms\":60000}",
        "{\"type\":\"request\",\"t_ms\":40000,\"model\":\"reasoning\"}", ""));
    Result ollama = run("simulate", "--trace", trace.toString(), "--policy", "ollama", "--set", "OLLAMA_MAX_LOADED_MODELS=2",
        "-o", dir.resolve("o").toString());
    assertEquals(0, ollama.code(), ollama.err());
    assertTrue(ollama.out().contains("settings       policy ollama: OLLAMA_MAX_LOADED_MODELS=2 OLLAMA_KEEP_ALIVE=5m"
        + " OLLAMA_NUM_PARALLEL=1 OLLAMA_MAX_QUEUE=512"), ollama.out());
    String summary = Files.readString(dir.resolve("o/summary.json"));
    assertTrue(summary.contains("\"policy\" : \"ollama\""), summary);
    String models = Files.readString(dir.resolve("o/models.csv"));
    Result mlx = run("simulate", "--trace", trace.toString(), "--set", "MLX_MAX_CACHED_MODELS=2", "--set", "MLX_PRELOAD_MODELS=",
        "-o", dir.resolve("m").toString());
    assertEquals(0, mlx.code(), mlx.err());
    String mlxModels = Files.readString(dir.resolve("m/models.csv"));
    assertEquals(List.of("phi3.5:0", "qwen2.5:1"), evictionsOf(models, "phi3.5", "qwen2.5"), models);
    assertEquals(List.of("phi3.5:1", "qwen2.5:0"), evictionsOf(mlxModels, "phi3.5", "qwen2.5"), mlxModels);
  }

  /**
   * LM Studio's Auto-Evict keeps one model loaded on demand: fast, default, fast is three cold starts
   * with it on and two with it off; the columns are LM Studio's settings.
   */
  @Test
  void sweep_underLmStudio_gridsAutoEvict() throws Exception {
    Path trace = Files.writeString(dir.resolve("lm.jsonl"), String.join("\n",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}",
        "{\"type\":\"request\",\"t_ms\":20000,\"model\":\"default\"}",
        "{\"type\":\"request\",\"t_ms\":40000,\"model\":\"fast\"}", ""));
    Result r = run("sweep", "--trace", trace.toString(), "--policy", "lmstudio", "--grid", "auto-evict=on,off",
        "--threads", "1", "-o", dir.resolve("lms").toString());
    assertEquals(0, r.code(), r.err());
    List<String> csv = Files.readAllLines(dir.resolve("lms/sweep.csv"));
    assertTrue(csv.get(0).startsWith("index,label,auto-evict,idle-ttl,max-concurrent-predictions,lms-load,host_ram,"),
        csv.get(0));
    int cold = List.of(csv.get(0).split(",")).indexOf("cold_starts");
    assertEquals(List.of("3", "2"), csv.subList(1, 3).stream().map(l -> l.split(",")[cold]).toList(), csv.toString());
    Result curve = run("curve", "--trace", writeHeader("lmh.jsonl", "{\"auto-evict\":\"on\"}").toString());
    assertEquals(2, curve.code());
    assertTrue(curve.err().contains("recorded under policy lmstudio, whose cap does not take the least recently used"),
        curve.err());
  }

  /**
   * LocalAI's loader with LOCALAI_MAX_ACTIVE_BACKENDS=1: the second model arrives while the first
   * serves a long answer. With one try it loads past the limit at once; with the default 30 tries a
   * second apart it waits 29 s and then loads past the limit; with 1,000 tries the first finishes
   * first and is evicted, so the two are never resident together.
   */
  @Test
  void sweep_underLocalAi_theRetriesDecideBetweenWaitingAndGoingPastTheLimit() throws Exception {
    Path trace = Files.writeString(dir.resolve("la.jsonl"), String.join("\n",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"reasoning\",\"max_tokens\":2000}",
        "{\"type\":\"request\",\"t_ms\":60000,\"model\":\"default\"}", ""));
    Result r = run("sweep", "--trace", trace.toString(), "--policy", "localai", "--set", "LOCALAI_MAX_ACTIVE_BACKENDS=1",
        "--grid", "LOCALAI_LRU_EVICTION_MAX_RETRIES=1,30,1000", "--threads", "1", "-o", dir.resolve("la").toString());
    assertEquals(0, r.code(), r.err());
    List<String> csv = Files.readAllLines(dir.resolve("la/sweep.csv"));
    List<String> head = List.of(csv.get(0).split(","));
    assertTrue(csv.get(0).startsWith("index,label,LOCALAI_MAX_ACTIVE_BACKENDS,LOCALAI_SIZE_AWARE_EVICTION,"), csv.get(0));
    java.util.function.BiFunction<Integer, String, String> cell = (row, column) -> csv.get(row).split(",")[head.indexOf(column)];
    assertEquals(List.of("0", "0", "1"), List.of(1, 2, 3).stream().map(i -> cell.apply(i, "evictions_max_models")).toList());
    assertEquals("deepseek-r1-distill-llama:70b", cell.apply(3, "peak_models_high"));
    assertTrue(cell.apply(1, "peak_models_high").contains("+"), csv.toString());
    // The second model's cold wait: its load alone at once (the shorter of the two waits), 29 sleeps of 1 s
    // longer after the tries (the longer), seen at a 500 ms watchdog tick.
    double atOnce = Double.parseDouble(cell.apply(1, "cold_wait_p50_s"));
    double afterTries = Double.parseDouble(cell.apply(2, "cold_wait_p95_s"));
    assertEquals(29.0, afterTries - atOnce, 0.5, csv.toString());
    Result forced = run("simulate", "--trace", trace.toString(), "--policy", "localai", "--set",
        "LOCALAI_FORCE_EVICTION_WHEN_BUSY=true");
    assertEquals(2, forced.code());
    assertTrue(forced.err().startsWith("mlxcap: LOCALAI_FORCE_EVICTION_WHEN_BUSY='true': mlxcap does not model it"),
        forced.err());
  }

  /** llama.cpp's router in its own flags; a value it would refuse is one sentence naming the flag. */
  @Test
  void simulate_underLlamaRouter_speaksItsFlags() throws Exception {
    Path trace = Files.writeString(dir.resolve("lr.jsonl"), "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n");
    Result r = run("simulate", "--trace", trace.toString(), "--policy", "llama-router", "--set", "models-max=1",
        "-o", dir.resolve("lr").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("settings       policy llama-router: models-max=1 sleep-idle-seconds=-1 parallel=4"),
        r.out());
    String summary = Files.readString(dir.resolve("lr/summary.json"));
    assertTrue(summary.contains("\"load_failed\" : 0"), summary);
    Result bad = run("simulate", "--trace", trace.toString(), "--policy", "llama-router", "--set", "sleep-idle-seconds=0");
    assertEquals(2, bad.code());
    assertEquals("mlxcap: sleep-idle-seconds='0' is invalid: llama-server's --sleep-idle-seconds takes -1 (never) or a"
        + " whole number of seconds >= 1.", bad.err().strip());
    Result other = run("simulate", "--trace", trace.toString(), "--policy", "llama-router", "--set", "OLLAMA_KEEP_ALIVE=1m");
    assertTrue(other.err().startsWith("mlxcap: --set OLLAMA_KEEP_ALIVE: a setting of policy ollama, not of llama-router"
        + " (use --policy ollama); llama-router's settings: models-max, sleep-idle-seconds, parallel."), other.err());
  }

  /**
   * A report for llama.cpp's router compared with LM Studio: the recommendation as llama-server's flags,
   * no seed advice (it is in MLX_* terms) and no loads-versus-cap chart (the router's order is not LRU),
   * one row per server; a second policy's grid is its own.
   */
  @Test
  void report_forTheRouter_comparedWithLmStudio_speaksEachServersTerms() throws Exception {
    Path trace = Files.writeString(dir.resolve("rr.jsonl"), String.join("\n",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}",
        "{\"type\":\"request\",\"t_ms\":20000,\"model\":\"default\"}",
        "{\"type\":\"request\",\"t_ms\":40000,\"model\":\"fast\"}", ""));
    Result r = run("report", "--trace", trace.toString(), "--policy", "llama-router,lmstudio", "--grid", "models-max=1,2",
        "--threads", "1", "-o", dir.resolve("rr").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("recommended    policy llama-router: models-max=2"), r.out());
    String md = Files.readString(dir.resolve("rr/report.md"));
    assertTrue(md.contains("# What-if capacity report: rr (llama.cpp's router)"), md);
    assertTrue(md.contains("llama-server --models-dir DIR --models-max 2"), md);
    assertTrue(md.contains("No loads-versus-cap chart"), md);
    assertTrue(!md.contains("seed note's advice") && !md.contains("## A count cap"), md);
    assertTrue(!Files.exists(dir.resolve("rr/loads-vs-cap.png")));
    List<String> servers = Files.readAllLines(dir.resolve("rr/servers.csv"));
    assertEquals(3, servers.size(), servers.toString());
    assertTrue(servers.get(2).startsWith("lmstudio,\"# Developer > Server Settings: Auto-Evict"), servers.get(2));
    Result twice = run("report", "--trace", trace.toString(), "--policy", "ollama,nosuch", "-o", dir.resolve("x").toString());
    assertEquals(2, twice.code());
    assertTrue(twice.err().startsWith("mlxcap: --policy nosuch: not a policy mlxcap knows"), twice.err());
  }

  private Path writeHeader(String name, String settings) throws Exception {
    return Files.writeString(dir.resolve(name), String.join("\n",
        "{\"type\":\"header\",\"format\":\"mlxcap-trace\",\"version\":1,\"settings\":" + settings + "}",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}", ""));
  }

  @Test
  void sweep_underOllama_gridsOllamasSettings_andWritesThemAsColumns() throws Exception {
    Path trace = Files.writeString(dir.resolve("w.jsonl"), String.join("\n",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}",
        "{\"type\":\"request\",\"t_ms\":20000,\"model\":\"default\"}",
        "{\"type\":\"request\",\"t_ms\":400000,\"model\":\"fast\"}", ""));
    Result r = run("sweep", "--trace", trace.toString(), "--policy", "ollama", "--grid", "OLLAMA_KEEP_ALIVE=0,5m,-1",
        "--threads", "1", "-o", dir.resolve("sw").toString());
    assertEquals(0, r.code(), r.err());
    List<String> csv = Files.readAllLines(dir.resolve("sw/sweep.csv"));
    assertTrue(csv.get(0).startsWith("index,label,OLLAMA_MAX_LOADED_MODELS,OLLAMA_KEEP_ALIVE,OLLAMA_NUM_PARALLEL,"
        + "OLLAMA_MAX_QUEUE,OLLAMA_CONTEXT_LENGTH,host_ram,"), csv.get(0));
    assertTrue(csv.get(1).startsWith("0,OLLAMA_KEEP_ALIVE=0,3,0,1,512,4096,"), csv.get(1));
    // fast's second request comes 6.7 min after its first: kept only by a keep-alive past 5 min.
    int cold = List.of(csv.get(0).split(",")).indexOf("cold_starts");
    assertEquals(List.of("3", "3", "2"), csv.subList(1, 4).stream().map(l -> l.split(",")[cold]).toList(), csv.toString());
    Result wrong = run("sweep", "--trace", trace.toString(), "--policy", "ollama", "--grid", "MLX_MAX_CACHED_MODELS=1,2");
    assertEquals(2, wrong.code());
    assertTrue(wrong.err().startsWith("mlxcap: --grid MLX_MAX_CACHED_MODELS: a setting of policy mlx, not of ollama"),
        wrong.err());
  }

  /**
   * Ollama allocates each slot's context when it loads a model (effectiveLlamaServerContext: the context
   * length, the model's trained context at most, times OLLAMA_NUM_PARALLEL), 4096 tokens without a GPU:
   * the peak grows by 3 × 4096 tokens × fast's 393,216 bytes a token from 1 slot to 4, and a context
   * length past fast's 131,072 trained tokens is cut to it.
   */
  @Test
  void sweep_underOllama_theContextOfEverySlotIsHeldFromTheLoad() throws Exception {
    Path trace = Files.writeString(dir.resolve("ctx.jsonl"), "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n");
    Result r = run("sweep", "--trace", trace.toString(), "--policy", "ollama", "--grid", "OLLAMA_NUM_PARALLEL=1,4",
        "--grid", "OLLAMA_CONTEXT_LENGTH=0,200000", "--threads", "1", "-o", dir.resolve("ctx").toString());
    assertEquals(0, r.code(), r.err());
    List<String> csv = Files.readAllLines(dir.resolve("ctx/sweep.csv"));
    int peak = List.of(csv.get(0).split(",")).indexOf("peak_rss_expected_bytes");
    java.util.function.IntFunction<Long> at = row -> Long.parseLong(csv.get(row).split(",")[peak]);
    // Rows: (1, 0), (1, 200000), (4, 0), (4, 200000).
    assertEquals(3L * 4096 * 393_216, at.apply(3) - at.apply(1), csv.toString());
    assertEquals((131_072L - 4096) * 393_216, at.apply(2) - at.apply(1), csv.toString());
  }

  @Test
  void simulate_ofAnOllamaRecording_runsOllama_withoutBeingTold() throws Exception {
    Path trace = Files.writeString(dir.resolve("h.jsonl"), String.join("\n",
        "{\"type\":\"header\",\"format\":\"mlxcap-trace\",\"version\":1,\"settings\":{\"OLLAMA_MAX_LOADED_MODELS\":\"1\","
            + "\"OLLAMA_KEEP_ALIVE\":\"-1\",\"OLLAMA_NUM_PARALLEL\":\"2\",\"OLLAMA_MAX_QUEUE\":\"8\"}}",
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}", ""));
    Result r = run("simulate", "--trace", trace.toString(), "--set", "OLLAMA_MAX_QUEUE=9", "-o", dir.resolve("h").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("settings       policy ollama: OLLAMA_MAX_LOADED_MODELS=1 OLLAMA_KEEP_ALIVE=-1"
        + " OLLAMA_NUM_PARALLEL=2 OLLAMA_MAX_QUEUE=9"), r.out());
    Result curve = run("curve", "--trace", trace.toString());
    assertEquals(2, curve.code());
    assertEquals("mlxcap: " + trace + " was recorded under policy ollama, whose cap does not take the least recently used"
        + " of all models, and curve's one pass is exact only for that; use sweep --policy ollama --grid"
        + " OLLAMA_MAX_LOADED_MODELS=... instead.", curve.err().strip());
    Result mlx = run("simulate", "--trace", trace.toString(), "--policy", "mlx", "-o", dir.resolve("h2").toString());
    assertEquals(0, mlx.code(), mlx.err());
    assertTrue(mlx.out().contains("settings       MLX_MAX_CACHED_MODELS=2 "), mlx.out());
  }

  /** "model:evictions" for each of {@code names}, sorted, from a models.csv. */
  private static List<String> evictionsOf(String csv, String... names) {
    List<String> lines = csv.lines().toList();
    List<String> header = List.of(lines.get(0).split(","));
    int evictions = header.indexOf("evictions");
    List<String> out = new java.util.ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",");
      for (String name : names) {
        if (cells[0].startsWith(name)) {
          out.add(name + ":" + cells[evictions]);
        }
      }
    }
    return out.stream().sorted().toList();
  }

  @Test
  void simulate_andCurve_badSettings_oneSentence() throws Exception {
    Path trace = Files.writeString(dir.resolve("s.jsonl"), "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n");
    Result unknown = run("simulate", "--trace", trace.toString(), "--set", "MLX_MAX_CACHE_MODELS=3");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().startsWith("mlxcap: --set MLX_MAX_CACHE_MODELS: not a setting mlxcap knows; mlx's settings: "
        + "MLX_MAX_CACHED_MODELS,"), unknown.err());
    Result bad = run("curve", "--trace", trace.toString(), "--set", "MLX_MAX_CACHED_MODELS=0");
    assertTrue(bad.err().startsWith("mlxcap: MLX_MAX_CACHED_MODELS='0' is invalid: must be >= 1;"), bad.err());
    Result missing = run("curve", "--trace", dir.resolve("none.jsonl").toString());
    assertEquals("mlxcap: trace " + dir.resolve("none.jsonl") + " does not exist", missing.err().strip());
  }

  @Test
  void curve_printsLoadsPerCap() throws Exception {
    Path trace = dir.resolve("c.jsonl");
    Files.writeString(trace, """
        {"type":"request","t_ms":0,"model":"fast"}
        {"type":"request","t_ms":1,"model":"default"}
        {"type":"request","t_ms":2,"model":"fast"}
        """);
    Result r = run("curve", "--trace", trace.toString(), "--set", "MLX_PRELOAD_MODELS=");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("1            3   100.00"), r.out());
    assertTrue(r.out().contains("2            2   66.67"), r.out());
  }

  @Test
  void unknownOption_usageAndExitCode2() {
    Result r = run("trace", "stats", "--frobnicate", "x");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("Unknown option: '--frobnicate'"), r.err());
  }

  @Test
  void workloadThenStats_endToEnd() throws Exception {
    Path trace = dir.resolve("w.jsonl");
    Result w = run("workload", "synth", "-o", trace.toString(), "--arrivals", "on-off", "--rate", "2",
        "--duration", "2h", "--mix", "fast=3,default=1", "--seed", "9");
    assertEquals(0, w.code(), w.err());
    assertTrue(w.out().startsWith("wrote "), w.out());
    Result s = run("trace", "stats", trace.toString());
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("source         mlxcap workload synth --arrivals on-off --rate 2.0 --duration PT2H"
        + " --mix fast=3,default=1 --prompt-tokens 600:1 --output-tokens 250:0.8 --seed 9"), s.out());
    assertTrue(s.out().contains("fast   "), s.out());
    Result json = run("trace", "stats", "--json", trace.toString());
    assertTrue(json.out().contains("\"inter_arrival_cv\""), json.out());
  }

  @Test
  void gzipInputCutShort_namesTheLine() throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (var gz = new java.util.zip.GZIPOutputStream(bytes)) {
      StringBuilder csv = new StringBuilder("t,p\n");
      for (int i = 0; i < 20_000; i++) {
        csv.append(i).append(',').append(i % 97).append('\n');
      }
      gz.write(csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    byte[] whole = bytes.toByteArray();
    Path cut = Files.write(dir.resolve("log.csv.gz"), java.util.Arrays.copyOf(whole, whole.length / 2));
    Result r = run("import", "csv", cut.toString(), "-o", dir.resolve("o.jsonl").toString(), "--time", "t",
        "--time-format", "offset-ms", "--model", "fast");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().matches("mlxcap: log\\.csv\\.gz line \\d+: the compressed data is damaged or cut short \\(.*\\)\\s*"), r.err());
  }

  // Issue 8: one exit-code rule for the whole command line; an I/O failure is 74 here and in serve.
  @Test
  void ioFailure_exits74() throws Exception {
    Path trace = Files.writeString(dir.resolve("t.jsonl"), "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n");
    Path notADirectory = Files.writeString(dir.resolve("file"), "x");
    Result r = run("simulate", "--trace", trace.toString(), "-o", notADirectory.resolve("out").toString());
    assertEquals(74, r.code(), r.err());
    assertTrue(r.err().startsWith("mlxcap: "), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  // A bound of 2^31 - 1 sized arrays by it: NegativeArraySizeException in simulate, OutOfMemoryError in a sweep.
  @Test
  void hugeQueueBound_isSizedByUse() throws Exception {
    Path trace = Files.writeString(dir.resolve("t.jsonl"), "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n"
        + "{\"type\":\"request\",\"t_ms\":1,\"model\":\"fast\"}\n");
    Result r = run("simulate", "--trace", trace.toString(), "--set", "MLX_MAX_QUEUE=2147483647", "-o",
        dir.resolve("o").toString());
    assertEquals(0, r.code(), r.err());
    Result s = run("sweep", "--trace", trace.toString(), "--grid", "MLX_MAX_QUEUE=100000000,2147483647", "-o",
        dir.resolve("s").toString());
    assertEquals(0, s.code(), s.err());
  }
}
