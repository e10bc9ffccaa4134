package io.mlxcap.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
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
    Map<String, String> map = new java.util.HashMap<>();
    for (int i = 0; i < env.length; i += 2) {
      map.put(env[i], env[i + 1]);
    }
    return Settings.fromEnv(ServerPolicy.OLLAMA, map, TABLE);
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
        Settings.fromEnv(ServerPolicy.MLX, Map.of("MLX_MAX_CACHE_BYTES", "64GiB"), TABLE));
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
    Settings seed = Settings.fromEnv(ServerPolicy.MLX_SEED, Map.of("MLX_MAX_CACHED_MODELS", "3"), TABLE);
    Settings asMlx = Settings.fromEnv(ServerPolicy.of(seed.toEnv()), seed.toEnv(), TABLE);
    assertEquals(seed.cache(), asMlx.cache(), "the seed's fixed values are mlx's defaults");
    assertEquals(seed.maxConcurrentRequests(), asMlx.maxConcurrentRequests());
    assertEquals(seed.maxQueue(), asMlx.maxQueue());
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
