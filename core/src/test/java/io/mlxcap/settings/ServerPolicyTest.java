package io.mlxcap.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.ManualLoads;
import io.mlxcap.cache.UnsetKeepAlive;
import io.mlxcap.cache.VictimOrder;
import io.mlxcap.model.ModelTable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each policy's own variables, read as that server reads them, into the one set of settings the core runs on. */
final class ServerPolicyTest {
  private static final ModelTable TABLE = ModelTable.defaults();

  private static Settings ollama(String... env) {
    return read(ServerPolicy.OLLAMA, env);
  }

  private static Settings read(ServerPolicy policy, String... env) {
    Map<String, String> map = new java.util.HashMap<>();
    for (int i = 0; i < env.length; i += 2) {
      map.put(env[i], env[i + 1]);
    }
    return Settings.fromEnv(policy, map, TABLE);
  }

  private static String refusal(ServerPolicy policy, String name, String value) {
    return assertThrows(InvalidInputException.class, () -> read(policy, name, value), name + "=" + value).getMessage();
  }

  /** server-models.cpp unload_lru ("models_max <= 0 ... no limit"), --help: --models-max default 4, -np auto = 4, sleep -1. */
  @Test
  void llamaRouter_defaultsAndForms_areLlamaServers() {
    Settings s = read(ServerPolicy.LLAMA_ROUTER);
    assertEquals(4, s.cache().maxModels());
    assertEquals(CachePolicy.NO_IDLE_TTL, s.cache().idleTtl());
    assertEquals(4, s.maxConcurrentRequests());
    assertEquals(VictimOrder.LEAST_RECENTLY_STARTED, s.cache().victims());
    assertEquals(ManualLoads.EVICTABLE, s.cache().manualLoads());
    assertEquals(CachePolicy.NO_PRESSURE_THRESHOLD, s.cache().pressureThreshold());
    assertTrue(s.policy().failsLoadsThatDoNotFit());
    assertEquals(CachePolicy.UNLIMITED_MODELS, read(ServerPolicy.LLAMA_ROUTER, "models-max", "0").cache().maxModels());
    assertEquals(CachePolicy.UNLIMITED_MODELS, read(ServerPolicy.LLAMA_ROUTER, "models-max", "-3").cache().maxModels());
    assertEquals(Duration.ofSeconds(300), read(ServerPolicy.LLAMA_ROUTER, "sleep-idle-seconds", "300").cache().idleTtl());
    assertEquals(2, read(ServerPolicy.LLAMA_ROUTER, "parallel", "2").maxConcurrentRequests());
    assertEquals("sleep-idle-seconds='0' is invalid: llama-server's --sleep-idle-seconds takes -1 (never) or a whole"
        + " number of seconds >= 1.", refusal(ServerPolicy.LLAMA_ROUTER, "sleep-idle-seconds", "0"));
    assertEquals("models-max='two' is invalid: llama-server's --models-max takes a whole number (0 or less: no limit).",
        refusal(ServerPolicy.LLAMA_ROUTER, "models-max", "two"));
    assertEquals("parallel='0' is invalid: llama-server's --parallel takes -1 (auto, 4 slots) or a whole number >= 1.",
        refusal(ServerPolicy.LLAMA_ROUTER, "parallel", "0"));
  }

  /** lmstudio.ai/docs/api/ttl-and-auto-evict: Auto-Evict on, TTL 60 min; parallel-requests: 4 predictions at once. */
  @Test
  void lmStudio_defaultsAndForms_areLmStudios() {
    Settings s = read(ServerPolicy.LMSTUDIO);
    assertEquals(1, s.cache().maxModels(), "Auto-Evict: one model loaded on demand");
    assertEquals(Duration.ofMinutes(60), s.cache().idleTtl());
    assertEquals(4, s.maxConcurrentRequests());
    assertEquals(ManualLoads.KEPT, s.cache().manualLoads());
    assertEquals(UnsetKeepAlive.STAYS, s.cache().unsetKeepAlive());
    assertEquals(List.of(), s.preloadModels());
    Settings off = read(ServerPolicy.LMSTUDIO, "auto-evict", "off", "idle-ttl", "off", "lms-load", "fast, fast,default");
    assertEquals(CachePolicy.UNLIMITED_MODELS, off.cache().maxModels());
    assertEquals(CachePolicy.NO_IDLE_TTL, off.cache().idleTtl());
    assertEquals(List.of(TABLE.resolve("fast").name(), TABLE.resolve("default").name()), off.preloadModels());
    assertEquals(Duration.ofSeconds(300), read(ServerPolicy.LMSTUDIO, "idle-ttl", "300s").cache().idleTtl());
    assertEquals("auto-evict='maybe' is invalid: LM Studio's Auto-Evict is on or off.",
        refusal(ServerPolicy.LMSTUDIO, "auto-evict", "maybe"));
    assertTrue(refusal(ServerPolicy.LMSTUDIO, "idle-ttl", "soon").startsWith("idle-ttl='soon' is invalid: write a duration"));
    assertTrue(refusal(ServerPolicy.LMSTUDIO, "lms-load", "nosuchmodel").startsWith("lms-load='nosuchmodel' is invalid: "));
    assertEquals("max-concurrent-predictions='0' is invalid: LM Studio's Max Concurrent Predictions is a whole number >= 1.",
        refusal(ServerPolicy.LMSTUDIO, "max-concurrent-predictions", "0"));
  }

  /** envconfig/config.go 126–144 and 274–279, sched.go 86 and 281–289 (3 models without a GPU). */
  @Test
  void ollama_defaults_areOllamas() {
    Settings s = ollama();
    assertEquals(3, s.cache().maxModels());
    assertEquals(Duration.ofMinutes(5), s.cache().idleTtl());
    assertEquals(1, s.maxConcurrentRequests());
    assertEquals(512, s.maxQueue());
    assertEquals(List.of(), s.preloadModels());
    assertEquals(CachePolicy.UNLIMITED_BYTES, s.cache().maxBytes());
    assertEquals(CachePolicy.NO_PRESSURE_THRESHOLD, s.cache().pressureThreshold());
    assertEquals(VictimOrder.SHORTEST_KEEP_ALIVE, s.cache().victims());
    assertEquals(UnsetKeepAlive.STAYS, s.cache().unsetKeepAlive());
    assertEquals(Duration.ofSeconds(1), s.cleanupInterval());
    assertEquals(3, ollama("OLLAMA_MAX_LOADED_MODELS", "0").cache().maxModels(), "0 is the automatic default");
    assertEquals(1, ollama("OLLAMA_NUM_PARALLEL", "0").maxConcurrentRequests(), "sched.go 497: max(NumParallel, 1)");
    assertEquals(4096, s.contextTokens(), "routes.go 2048-2057: 4096 tokens below 23 GiB of VRAM");
    assertEquals(4096, ollama("OLLAMA_CONTEXT_LENGTH", "0").contextTokens(), "0 is the automatic default");
    assertEquals(32768, ollama("OLLAMA_CONTEXT_LENGTH", "32768").contextTokens());
    assertEquals(0, read(ServerPolicy.LLAMA_ROUTER).contextTokens(), "only Ollama's context is modelled at load");
    assertEquals(0, s.withKvPerRequest().contextTokens());
    assertTrue(refusal(ServerPolicy.OLLAMA, "OLLAMA_CONTEXT_LENGTH", "4k").startsWith(
        "OLLAMA_CONTEXT_LENGTH='4k' is invalid: Ollama reads a whole number >= 0"));
  }

  /** config.go 129–144: a Go duration, else whole seconds; negative is forever, 0 unloads when idle. */
  @Test
  void ollama_keepAlive_inEveryFormOllamaReads() {
    Map<String, Duration> forms = new java.util.LinkedHashMap<>();
    forms.put("30m", Duration.ofMinutes(30));
    forms.put("1h30m", Duration.ofMinutes(90));
    forms.put("1.5h", Duration.ofMinutes(90));
    forms.put("300ms", Duration.ofMillis(300));
    forms.put("300", Duration.ofSeconds(300));
    forms.put("0", Duration.ZERO);
    forms.put("0s", Duration.ZERO);
    forms.put("-1", CachePolicy.NO_IDLE_TTL);
    forms.put("-5m", CachePolicy.NO_IDLE_TTL);
    forms.forEach((v, d) -> assertEquals(d, ollama("OLLAMA_KEEP_ALIVE", v).cache().idleTtl(), v));
    for (String bad : List.of("soon", "5 m", "m", "1.2.3s", "5d")) {
      InvalidInputException e = assertThrows(InvalidInputException.class, () -> ollama("OLLAMA_KEEP_ALIVE", bad), bad);
      assertTrue(e.getMessage().startsWith("OLLAMA_KEEP_ALIVE='" + bad + "' is invalid: Ollama reads a duration"), e.getMessage());
    }
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> ollama("OLLAMA_MAX_LOADED_MODELS", "-2"));
    assertEquals("OLLAMA_MAX_LOADED_MODELS='-2' is invalid: Ollama reads a whole number >= 0 (and would ignore this value,"
        + " using 0).", e.getMessage());
  }

  @Test
  void everyPolicy_readsBackWhatItWrites() {
    List<Settings> all = List.of(ollama(), ollama("OLLAMA_KEEP_ALIVE", "-1", "OLLAMA_MAX_LOADED_MODELS", "5"),
        ollama("OLLAMA_KEEP_ALIVE", "0", "OLLAMA_NUM_PARALLEL", "4", "OLLAMA_MAX_QUEUE", "0"),
        ollama("OLLAMA_KEEP_ALIVE", "1500ms"),
        Settings.fromEnv(ServerPolicy.MLX_SEED, Map.of("MLX_MAX_CACHED_MODELS", "3"), TABLE),
        Settings.fromEnv(ServerPolicy.MLX, Map.of("MLX_MAX_CACHE_BYTES", "64GiB"), TABLE),
        read(ServerPolicy.LLAMA_ROUTER), read(ServerPolicy.LLAMA_ROUTER, "models-max", "0", "sleep-idle-seconds", "90",
            "parallel", "1"),
        read(ServerPolicy.LMSTUDIO), read(ServerPolicy.LMSTUDIO, "auto-evict", "off", "idle-ttl", "90s", "lms-load", "default"),
        read(ServerPolicy.LMSTUDIO, "idle-ttl", "1500ms"), read(ServerPolicy.LOCALAI),
        read(ServerPolicy.LOCALAI, "LOCALAI_MAX_ACTIVE_BACKENDS", "3", "LOCALAI_LRU_EVICTION_RETRY_INTERVAL", "250ms",
            "LOCALAI_WATCHDOG_IDLE", "true", "LOCALAI_WATCHDOG_INTERVAL", "2s", "pinned", "reasoning,fast",
            "LOCALAI_MEMORY_RECLAIMER", "true", "LOCALAI_MEMORY_RECLAIMER_THRESHOLD", "0.9", "LOCALAI_SIZE_AWARE_EVICTION", "t"));
    for (Settings s : all) {
      assertEquals(s, Settings.fromEnv(s.policy(), s.toEnv(), TABLE), s.toString());
      assertEquals(s.policy().variables(), List.copyOf(s.toEnv().keySet()));
    }
  }

  /** The seed's server: its three variables, the 95 % rule, one request at a time, nothing opt-in. */
  @Test
  void mlxSeed_isTheSeedsThreeVariables_andIgnoresTheRest() {
    Settings s = Settings.fromEnv(ServerPolicy.MLX_SEED,
        Map.of("MLX_MAX_CACHED_MODELS", "4", "MLX_MAX_CACHE_BYTES", "10GiB", "MLX_MAX_CONCURRENT_REQUESTS", "8"), TABLE);
    assertEquals(4, s.cache().maxModels());
    assertEquals(CachePolicy.UNLIMITED_BYTES, s.cache().maxBytes());
    assertEquals(1, s.maxConcurrentRequests());
    assertEquals(0.95, s.cache().pressureThreshold());
    assertEquals(List.of("MLX_MAX_CACHED_MODELS", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "MLX_PRELOAD_MODELS"),
        List.copyOf(s.toEnv().keySet()));
    assertEquals(VictimOrder.LEAST_RECENTLY_USED, s.cache().victims());
  }

  /** A recording's header says whose server made it; the seed's three variables alone stay mlx, so --set works on them. */
  @Test
  void aHeadersSettings_sayWhichPolicyRecordedIt() {
    assertEquals(ServerPolicy.OLLAMA, ServerPolicy.of(ollama().toEnv()));
    assertEquals(ServerPolicy.MLX, ServerPolicy.of(Settings.defaults(TABLE).toEnv()));
    assertEquals(ServerPolicy.MLX, ServerPolicy.of(Map.of("MLX_MAX_CACHED_MODELS", "2", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "600",
        "MLX_PRELOAD_MODELS", "fast")));
    assertEquals(ServerPolicy.MLX, ServerPolicy.of(Map.of()));
    assertEquals(ServerPolicy.LLAMA_ROUTER, ServerPolicy.of(read(ServerPolicy.LLAMA_ROUTER).toEnv()));
    assertEquals(ServerPolicy.LMSTUDIO, ServerPolicy.of(read(ServerPolicy.LMSTUDIO).toEnv()));
    Settings seed = Settings.fromEnv(ServerPolicy.MLX_SEED, Map.of("MLX_MAX_CACHED_MODELS", "3"), TABLE);
    Settings asMlx = Settings.fromEnv(ServerPolicy.of(seed.toEnv()), seed.toEnv(), TABLE);
    assertEquals(seed.cache(), asMlx.cache(), "the seed's fixed values are mlx's defaults");
    assertEquals(seed.maxConcurrentRequests(), asMlx.maxConcurrentRequests());
    assertEquals(seed.maxQueue(), asMlx.maxQueue());
  }

  /** internal/config at mostlygeek/llama-swap@0bdb372: groups default to swap and exclusive; ungrouped models share (default). */
  @Test
  void llamaSwap_groupsTtlAndLimit_readAsLlamaSwapReadsThem() {
    Settings s = read(ServerPolicy.LLAMA_SWAP);
    assertEquals(CachePolicy.UNLIMITED_MODELS, s.cache().maxModels());
    assertEquals(CachePolicy.NO_IDLE_TTL, s.cache().idleTtl());
    assertEquals(10, s.cache().perModelRequests());
    assertEquals(io.mlxcap.cache.Waiters.EACH_ON_ITS_OWN, s.cache().waiters());
    String fast = TABLE.resolve("fast").name();
    String def = TABLE.resolve("default").name();
    assertTrue(s.cache().groups().mustGoFor(fast, def), "no groups: one model at a time");
    Settings g = read(ServerPolicy.LLAMA_SWAP, "groups", "chat[no-swap,no-exclusive]=fast,default;keep[persistent]=reasoning",
        "globalTTL", "300", "concurrencyLimit", "2");
    assertTrue(!g.cache().groups().mustGoFor(fast, def), "chat does not swap");
    assertEquals(Duration.ofSeconds(300), g.cache().idleTtl());
    assertEquals(2, g.cache().perModelRequests());
    assertEquals("chat[no-swap,no-exclusive]=" + String.join(",", new java.util.TreeSet<>(List.of(fast, def))) + ";keep[persistent]="
        + TABLE.resolve("reasoning").name(), g.toEnv().get("groups"));
    assertEquals(g, Settings.fromEnv(ServerPolicy.LLAMA_SWAP, g.toEnv(), TABLE));
    assertTrue(refusal(ServerPolicy.LLAMA_SWAP, "groups", "a=fast;b=fast").contains("is in two groups"));
    assertTrue(refusal(ServerPolicy.LLAMA_SWAP, "groups", "a[sometimes]=fast").contains("'sometimes' is not a flag"));
    assertEquals("globalTTL='-1' is invalid: llama-swap's globalTTL is a whole number of seconds >= 0 (0: never unload).",
        refusal(ServerPolicy.LLAMA_SWAP, "globalTTL", "-1"));
    assertEquals(ServerPolicy.LLAMA_SWAP, ServerPolicy.of(g.toEnv()));
    // load.go 138-145: a model's unset ttl is globalTTL, 0 never unloads it.
    Settings t = read(ServerPolicy.LLAMA_SWAP, "globalTTL", "300", "ttl", "fast=60, reasoning=0");
    assertEquals(Duration.ofSeconds(300), t.cache().idleTtl());
    assertEquals(Map.of("phi3.5:3.8b", Duration.ofSeconds(60), "deepseek-r1-distill-llama:70b", CachePolicy.NO_IDLE_TTL),
        t.cache().modelTtls());
    assertEquals(t, Settings.fromEnv(ServerPolicy.LLAMA_SWAP, t.toEnv(), TABLE));
    assertTrue(refusal(ServerPolicy.LLAMA_SWAP, "ttl", "fast=-1").startsWith("ttl='fast=-1' is invalid: 'fast=-1' is not"
        + " MODEL=SECONDS"));
    assertTrue(refusal(ServerPolicy.LLAMA_SWAP, "ttl", "nosuch=5").startsWith("ttl='nosuch=5' is invalid: "));
    assertEquals(List.of("# config.yaml, models.phi3.5:3.8b: ttl: 60"),
        ServerPolicy.LLAMA_SWAP.howToSet(Map.of("ttl", "phi3.5:3.8b=60")));
  }

  /**
   * core/cli/run.go at mudler/LocalAI@82c191a: MAX_ACTIVE_BACKENDS 0 (no limit), LRU_EVICTION_MAX_RETRIES 30
   * every LRU_EVICTION_RETRY_INTERVAL 1s (retryEnforce sleeps between tries: 29 s, then past the limit),
   * WATCHDOG_IDLE off with a 15m timeout, WATCHDOG_INTERVAL 500ms, MEMORY_RECLAIMER off at 0.95,
   * MAX_CONCURRENT_BACKEND_REQUESTS 1024 (503 beyond); pinned models from their YAML.
   */
  @Test
  void localAi_defaultsAndForms_areLocalAis() {
    Settings d = read(ServerPolicy.LOCALAI);
    assertEquals(CachePolicy.UNLIMITED_MODELS, d.cache().maxModels());
    assertEquals(Duration.ofSeconds(29), d.cache().pastCapAfter());
    assertEquals(VictimOrder.LEAST_RECENTLY_USED, d.cache().victims());
    assertEquals(CachePolicy.NO_IDLE_TTL, d.cache().idleTtl());
    assertEquals(CachePolicy.NO_PRESSURE_THRESHOLD, d.cache().pressureThreshold());
    assertEquals(Duration.ofMillis(500), d.cleanupInterval());
    assertEquals(1024, d.maxConcurrentRequests());
    assertEquals(0, d.maxQueue());
    Settings s = read(ServerPolicy.LOCALAI, "LOCALAI_MAX_ACTIVE_BACKENDS", "2", "LOCALAI_SIZE_AWARE_EVICTION", "true",
        "LOCALAI_LRU_EVICTION_MAX_RETRIES", "5", "LOCALAI_LRU_EVICTION_RETRY_INTERVAL", "2s", "LOCALAI_WATCHDOG_IDLE", "1",
        "LOCALAI_WATCHDOG_IDLE_TIMEOUT", "1h30m", "LOCALAI_MEMORY_RECLAIMER", "True", "LOCALAI_MEMORY_RECLAIMER_THRESHOLD",
        "0.8", "LOCALAI_LOAD_TO_MEMORY", "fast", "pinned", "fast,reasoning");
    assertEquals(2, s.cache().maxModels());
    assertEquals(VictimOrder.LARGEST_FIRST, s.cache().victims());
    assertEquals(Duration.ofSeconds(8), s.cache().pastCapAfter());
    assertEquals(Duration.ofMinutes(90), s.cache().idleTtl());
    assertEquals(0.8, s.cache().pressureThreshold());
    assertEquals(List.of("phi3.5:3.8b"), s.preloadModels()); // aliases resolve to the table's names
    assertEquals(java.util.Set.of("phi3.5:3.8b", "deepseek-r1-distill-llama:70b"), s.cache().neverEvicted());
    assertEquals(ServerPolicy.LOCALAI, ServerPolicy.of(s.toEnv()));
    assertEquals("LOCALAI_MAX_ACTIVE_BACKENDS='-1' is invalid: LocalAI reads a whole number >= 0 (0: no limit).",
        refusal(ServerPolicy.LOCALAI, "LOCALAI_MAX_ACTIVE_BACKENDS", "-1"));
    assertEquals("LOCALAI_WATCHDOG_IDLE='yes' is invalid: LocalAI reads true or false.",
        refusal(ServerPolicy.LOCALAI, "LOCALAI_WATCHDOG_IDLE", "yes"));
    assertTrue(refusal(ServerPolicy.LOCALAI, "LOCALAI_WATCHDOG_IDLE_TIMEOUT", "15 minutes").startsWith(
        "LOCALAI_WATCHDOG_IDLE_TIMEOUT='15 minutes' is invalid: LocalAI reads a duration"));
    assertTrue(refusal(ServerPolicy.LOCALAI, "LOCALAI_MEMORY_RECLAIMER_THRESHOLD", "95").contains("at most 1"));
    assertTrue(refusal(ServerPolicy.LOCALAI, "LOCALAI_FORCE_EVICTION_WHEN_BUSY", "true").contains("mlxcap does not model it"));
    assertTrue(refusal(ServerPolicy.LOCALAI, "pinned", "nosuchmodel").startsWith("pinned='nosuchmodel' is invalid"));
    assertEquals(List.of("export LOCALAI_MAX_ACTIVE_BACKENDS=2", "# models/fast.yaml: pinned: true"),
        ServerPolicy.LOCALAI.howToSet(new java.util.TreeMap<>(Map.of("LOCALAI_MAX_ACTIVE_BACKENDS", "2", "pinned", "fast"))));
  }

  /** A report's lines to copy are each server's own way of setting things. */
  @Test
  void howToSet_isEachServersOwnWay() {
    Map<String, String> one = new java.util.LinkedHashMap<>();
    one.put("OLLAMA_KEEP_ALIVE", "-1");
    assertEquals(List.of("export OLLAMA_KEEP_ALIVE=-1"), ServerPolicy.OLLAMA.howToSet(one));
    assertEquals(List.of("export MLX_PRELOAD_MODELS=''"), ServerPolicy.MLX.howToSet(Map.of("MLX_PRELOAD_MODELS", "")));
    Map<String, String> router = new java.util.LinkedHashMap<>();
    router.put("models-max", "2");
    router.put("sleep-idle-seconds", "300");
    assertEquals(List.of("llama-server --models-dir DIR --models-max 2 --sleep-idle-seconds 300   # router mode: no --model"),
        ServerPolicy.LLAMA_ROUTER.howToSet(router));
    Map<String, String> lm = new java.util.LinkedHashMap<>();
    lm.put("auto-evict", "off");
    lm.put("idle-ttl", "5m");
    lm.put("lms-load", "a,b");
    assertEquals(List.of("# Developer > Server Settings: Auto-Evict (only keep last JIT loaded model) off",
        "# Developer > Server Settings: Auto unload unused JIT loaded models on, Max idle TTL 5m", "lms load a",
        "lms load b"), ServerPolicy.LMSTUDIO.howToSet(lm));
    Map<String, String> swap = new java.util.LinkedHashMap<>();
    swap.put("groups", "keep[no-swap,persistent]=fast,default;big=reasoning");
    swap.put("globalTTL", "300");
    assertEquals(List.of("groups:   # config.yaml", "  big:", "    swap: true", "    exclusive: true", "    persistent: false",
        "    members: [reasoning]", "  keep:", "    swap: false", "    exclusive: true", "    persistent: true",
        "    members: [default, fast]", "globalTTL: 300   # config.yaml"), ServerPolicy.LLAMA_SWAP.howToSet(swap));
  }

  @Test
  void aSettingOfAnotherPolicy_namesThePolicyThatHasIt() {
    InvalidInputException e = assertThrows(InvalidInputException.class,
        () -> ServerPolicy.MLX.check("--grid", "OLLAMA_KEEP_ALIVE"));
    assertEquals("--grid OLLAMA_KEEP_ALIVE: a setting of policy ollama, not of mlx (use --policy ollama); mlx's settings: "
        + String.join(", ", ServerPolicy.MLX.variables()) + ".", e.getMessage());
    assertEquals(ServerPolicy.OLLAMA, ServerPolicy.named(" Ollama"));
  }
}
