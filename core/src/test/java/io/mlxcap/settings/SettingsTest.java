package io.mlxcap.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.model.ModelTable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class SettingsTest {
  private final ModelTable table = ModelTable.defaults();

  private Settings read(String... keyValues) {
    Map<String, String> env = new java.util.LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      env.put(keyValues[i], keyValues[i + 1]);
    }
    return Settings.fromEnv(env, table);
  }

  @Test
  void defaults_areTheSeedsAfterItsFix() {
    Settings s = Settings.defaults(table);
    assertEquals(2, s.cache().maxModels());
    assertEquals(Duration.ofSeconds(600), s.cleanupInterval());
    assertEquals(List.of("phi3.5:3.8b"), s.preloadModels());
    assertEquals(0.95, s.cache().pressureThreshold());
    assertEquals(CachePolicy.NO_IDLE_TTL, s.cache().idleTtl());
    assertEquals(CachePolicy.UNLIMITED_BYTES, s.cache().maxBytes());
    assertEquals(1, s.maxConcurrentRequests());
    assertEquals(512, s.maxQueue());
    assertEquals(CachePolicy.seedDefaults(), s.cache());
  }

  @Test
  void everyVariable_readWhenSet() {
    Settings s = read(
        "MLX_MAX_CACHED_MODELS", "3",
        "MLX_CACHE_CLEANUP_INTERVAL_SEC", "60",
        "MLX_PRELOAD_MODELS", " default , fast ",
        "MLX_MEMORY_PRESSURE_THRESHOLD", "90%",
        "MLX_MODEL_IDLE_TTL_SEC", "300",
        "MLX_MAX_CACHE_BYTES", "96GiB",
        "MLX_MAX_CONCURRENT_REQUESTS", "4",
        "MLX_MAX_QUEUE", "0");
    assertEquals(3, s.cache().maxModels());
    assertEquals(Duration.ofMinutes(1), s.cleanupInterval());
    assertEquals(List.of("qwen2.5-coder:32b", "phi3.5:3.8b"), s.preloadModels());
    assertEquals(0.9, s.cache().pressureThreshold(), 1e-12);
    assertEquals(Duration.ofMinutes(5), s.cache().idleTtl());
    assertEquals(96L << 30, s.cache().maxBytes());
    assertEquals(4, s.maxConcurrentRequests());
    assertEquals(0, s.maxQueue());
  }

  @Test
  void off_disablesWhatCanBeDisabled() {
    Settings s = read(
        "MLX_MAX_CACHED_MODELS", "off",
        "MLX_CACHE_CLEANUP_INTERVAL_SEC", "0",
        "MLX_PRELOAD_MODELS", "",
        "MLX_MEMORY_PRESSURE_THRESHOLD", "OFF",
        "MLX_MODEL_IDLE_TTL_SEC", "0",
        "MLX_MAX_CACHE_BYTES", "off");
    assertEquals(CachePolicy.UNLIMITED_MODELS, s.cache().maxModels());
    assertEquals(Duration.ZERO, s.cleanupInterval());
    assertEquals(List.of(), s.preloadModels());
    assertEquals(CachePolicy.NO_PRESSURE_THRESHOLD, s.cache().pressureThreshold());
    assertEquals(CachePolicy.NO_IDLE_TTL, s.cache().idleTtl());
    assertEquals(CachePolicy.UNLIMITED_BYTES, s.cache().maxBytes());
  }

  @Test
  void emptyValue_meansDefault_exceptPreload() {
    Settings s = read("MLX_MAX_CACHED_MODELS", "", "MLX_MAX_QUEUE", "  ", "MLX_PRELOAD_MODELS", " ");
    assertEquals(2, s.cache().maxModels());
    assertEquals(512, s.maxQueue());
    assertEquals(List.of(), s.preloadModels());
  }

  @Test
  void preload_repeatsAndEmptyEntriesDropped() {
    assertEquals(List.of("phi3.5:3.8b", "qwen2.5-coder:32b"),
        read("MLX_PRELOAD_MODELS", "fast,,phi3.5:3.8b,default,").preloadModels());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "MLX_MAX_CACHED_MODELS | two | MLX_MAX_CACHED_MODELS='two' is invalid: not a whole number; allowed: a whole number >= 1, or off for no cap (the server before the seed's fix).",
    "MLX_MAX_CACHED_MODELS | 0 | MLX_MAX_CACHED_MODELS='0' is invalid: must be >= 1; allowed:",
    "MLX_MAX_CACHED_MODELS | -3 | MLX_MAX_CACHED_MODELS='-3' is invalid: must be >= 1;",
    "MLX_MAX_CACHED_MODELS | 2.5 | MLX_MAX_CACHED_MODELS='2.5' is invalid: not a whole number;",
    "MLX_CACHE_CLEANUP_INTERVAL_SEC | -1 | MLX_CACHE_CLEANUP_INTERVAL_SEC='-1' is invalid: must be >= 0; allowed: a whole number of seconds >= 0; 0 disables periodic cleanup.",
    "MLX_CACHE_CLEANUP_INTERVAL_SEC | 10m | MLX_CACHE_CLEANUP_INTERVAL_SEC='10m' is invalid: not a whole number;",
    "MLX_CACHE_CLEANUP_INTERVAL_SEC | 99999999999 | MLX_CACHE_CLEANUP_INTERVAL_SEC='99999999999' is invalid: must be <= 2147483647;",
    "MLX_PRELOAD_MODELS | fast,gpt-4 | MLX_PRELOAD_MODELS='fast,gpt-4' is invalid: unknown model 'gpt-4'; known models: phi3.5:3.8b (fast),",
    "MLX_MEMORY_PRESSURE_THRESHOLD | 95 | MLX_MEMORY_PRESSURE_THRESHOLD='95' is invalid: a fraction must be at most 1 (did you mean 95%?);",
    "MLX_MEMORY_PRESSURE_THRESHOLD | 0 | MLX_MEMORY_PRESSURE_THRESHOLD='0' is invalid: must be above 0 and at most 1;",
    "MLX_MEMORY_PRESSURE_THRESHOLD | 120% | MLX_MEMORY_PRESSURE_THRESHOLD='120%' is invalid: must be above 0 and at most 100%;",
    "MLX_MEMORY_PRESSURE_THRESHOLD | high | MLX_MEMORY_PRESSURE_THRESHOLD='high' is invalid: not a number;",
    "MLX_MEMORY_PRESSURE_THRESHOLD | NaN | MLX_MEMORY_PRESSURE_THRESHOLD='NaN' is invalid: not a number;",
    "MLX_MODEL_IDLE_TTL_SEC | soon | MLX_MODEL_IDLE_TTL_SEC='soon' is invalid: not a whole number;",
    "MLX_MODEL_IDLE_TTL_SEC | -5 | MLX_MODEL_IDLE_TTL_SEC='-5' is invalid: must be >= 0;",
    "MLX_MAX_CACHE_BYTES | 96 gigs | MLX_MAX_CACHE_BYTES='96 gigs' is invalid: unknown unit 'gigs';",
    "MLX_MAX_CACHE_BYTES | 0 | MLX_MAX_CACHE_BYTES='0' is invalid: a budget must be more than 0 bytes;",
    "MLX_MAX_CACHE_BYTES | -1GB | MLX_MAX_CACHE_BYTES='-1GB' is invalid: expected a size such as 96GiB",
    "MLX_MAX_CONCURRENT_REQUESTS | 0 | MLX_MAX_CONCURRENT_REQUESTS='0' is invalid: must be >= 1; allowed: a whole number >= 1.",
    "MLX_MAX_QUEUE | -1 | MLX_MAX_QUEUE='-1' is invalid: must be >= 0; allowed: a whole number >= 0.",
    "MLX_MAX_QUEUE | many | MLX_MAX_QUEUE='many' is invalid: not a whole number;",
  })
  void badValue_oneSentenceNamingVariableValueAndAllowed(String variable, String value, String expectedStart) {
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> read(variable, value));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
    assertTrue(e.getMessage().endsWith("."), e.getMessage());
  }

  @Test
  void idleTtl_withoutCleanup_refusedNamingBoth() {
    InvalidInputException e = assertThrows(InvalidInputException.class,
        () -> read("MLX_MODEL_IDLE_TTL_SEC", "300", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "0"));
    assertEquals("MLX_MODEL_IDLE_TTL_SEC='300' needs periodic cleanup, but MLX_CACHE_CLEANUP_INTERVAL_SEC=0"
        + " turns it off; set an interval > 0 or MLX_MODEL_IDLE_TTL_SEC=off.", e.getMessage());
  }

  @Test
  void toEnv_roundTrips() {
    Settings s = read("MLX_MAX_CACHED_MODELS", "off", "MLX_PRELOAD_MODELS", "default,fast",
        "MLX_MEMORY_PRESSURE_THRESHOLD", "0.875", "MLX_MODEL_IDLE_TTL_SEC", "120", "MLX_MAX_CACHE_BYTES", "48GB");
    assertEquals(Map.of(
        "MLX_MAX_CACHED_MODELS", "off",
        "MLX_CACHE_CLEANUP_INTERVAL_SEC", "600",
        "MLX_PRELOAD_MODELS", "qwen2.5-coder:32b,phi3.5:3.8b",
        "MLX_MEMORY_PRESSURE_THRESHOLD", "0.875",
        "MLX_MODEL_IDLE_TTL_SEC", "120",
        "MLX_MAX_CACHE_BYTES", "48000000000",
        "MLX_MAX_CONCURRENT_REQUESTS", "1",
        "MLX_MAX_QUEUE", "512"), s.toEnv());
    assertEquals(s, Settings.fromEnv(s.toEnv(), table));
    assertEquals(Settings.defaults(table), Settings.fromEnv(Settings.defaults(table).toEnv(), table));
  }

  @Test
  void with_overridesAndValidates() {
    Settings s = Settings.defaults(table).with(Map.of("MLX_MAX_CACHED_MODELS", "3"), table);
    assertEquals(3, s.cache().maxModels());
    assertEquals(List.of("phi3.5:3.8b"), s.preloadModels());
    assertThrows(InvalidInputException.class,
        () -> s.with(Map.of("MLX_MAX_CACHED_MODELS", "0"), table));
  }

  @Test
  void warnings_preloadLongerThanCap_andTypos() {
    Map<String, String> env = Map.of(
        "MLX_MAX_CACHED_MODELS", "1",
        "MLX_PRELOAD_MODELS", "default,fast",
        "MLX_MAX_CACHE_MODELS", "3",
        "MLX_API_KEY", "secret",
        "PATH", "/usr/bin");
    Settings s = Settings.fromEnv(env, table);
    assertEquals(List.of(
        "MLX_PRELOAD_MODELS lists 2 models but MLX_MAX_CACHED_MODELS=1: all are preloaded, and the least"
            + " recently used surplus is unloaded at the first cleanup tick or before the next load.",
        "MLX_MAX_CACHE_MODELS is not a setting mlxcap knows and is ignored; did you mean MLX_MAX_CACHED_MODELS?"),
        s.warnings(env));
    assertEquals(List.of(), Settings.defaults(table).warnings(Map.of()));
  }

  @Test
  void describeAll_listsEverySettingWithDefault() {
    String text = Setting.describeAll();
    for (Setting s : Setting.values()) {
      assertTrue(text.contains(s.name()), s.name());
    }
    assertTrue(text.contains("MLX_MAX_CACHED_MODELS           default 2"), text);
  }

  // Issue 8: a model table of one's own without "fast" failed on a preload the user never wrote.
  @Test
  void defaultPreload_aTableWithoutIt_preloadsNothingWithAWarning_butAGivenValueIsChecked() {
    ModelTable own = ModelTable.of(List.of(new io.mlxcap.model.ModelSpec("llama-3-8b", List.of(),
        io.mlxcap.model.SizeRange.exactly(16_000_000_000L))));
    Settings s = Settings.fromEnv(Map.of(), own);
    assertEquals(List.of(), s.preloadModels());
    assertEquals(List.of("MLX_PRELOAD_MODELS is unset and its default 'fast' names no model of this model table, so"
        + " nothing is preloaded; set MLX_PRELOAD_MODELS to choose."), s.warnings(Map.of()));
    assertEquals(List.of("llama-3-8b"), Settings.fromEnv(Map.of("MLX_PRELOAD_MODELS", "llama-3-8b"), own).preloadModels());
    assertEquals(List.of(), Settings.fromEnv(Map.of("MLX_PRELOAD_MODELS", ""), own).warnings(Map.of("MLX_PRELOAD_MODELS", "")));
    InvalidInputException e = assertThrows(InvalidInputException.class,
        () -> Settings.fromEnv(Map.of("MLX_PRELOAD_MODELS", "fast"), own));
    assertTrue(e.getMessage().startsWith("MLX_PRELOAD_MODELS='fast' is invalid: unknown model 'fast'"), e.getMessage());
    assertEquals(List.of(), Settings.defaults(table).warnings(Map.of()), "the seed's table has fast: nothing to say");
  }
}
