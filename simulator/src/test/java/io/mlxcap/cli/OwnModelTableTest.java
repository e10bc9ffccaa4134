package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8: a user with a fleet of their own models (a table without the seed's {@code fast}) imports
 * a request log and simulates it. The default preload names a model the table lacks and must mean
 * "preload nothing"; {@code --set} replaces a value before it is checked; only a value the user gave
 * is an error.
 */
final class OwnModelTableTest {
  private static final int MODELS = 84;

  @TempDir Path dir;
  private Path trace;

  @BeforeEach
  void importALogOfEightyFourModels() throws Exception {
    StringBuilder table = new StringBuilder("{\"models\":[");
    for (int m = 0; m < MODELS; m++) {
      table.append(m == 0 ? "" : ",").append(String.format(Locale.ROOT,
          "{\"name\":\"fleet-%02d:%db\",\"size\":\"%dGB\"}", m, 1 + m % 70, 1 + m % 40));
    }
    Path tableFile = dir.resolve("fleet.json");
    Files.writeString(tableFile, table.append("]}").toString());
    StringBuilder log = new StringBuilder("ts,model,prompt,completion\n");
    for (int i = 0; i < 2_000; i++) {
      int m = (i * 7 + i / 13) % MODELS;
      log.append(i * 250).append(',').append(String.format(Locale.ROOT, "fleet-%02d:%db", m, 1 + m % 70))
          .append(",100,20\n");
    }
    Path csv = dir.resolve("log.csv");
    Files.writeString(csv, log);
    trace = dir.resolve("fleet.jsonl");
    CliTest.Result imported = CliTest.run("import", "csv", csv.toString(), "-o", trace.toString(), "--time", "ts",
        "--time-format", "offset-ms", "--model-column", "model", "--prompt-tokens", "prompt", "--output-tokens", "completion",
        "--models", tableFile.toString());
    assertEquals(0, imported.code(), imported.err());
  }

  @Test
  void simulate_defaultPreloadTheTableLacks_preloadsNothingWithANote() {
    CliTest.Result r = CliTest.run("simulate", "--trace", trace.toString(), "-o", dir.resolve("out").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("MLX_PRELOAD_MODELS is unset and its default 'fast' names no model of this model table,"
        + " so nothing is preloaded"), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    assertTrue(r.out().contains("2,000 requests"), r.out());
  }

  @Test
  void curve_withAnEmptyPreload_runsOverEveryCap() {
    CliTest.Result r = CliTest.run("curve", "--trace", trace.toString(), "--set", "MLX_PRELOAD_MODELS=");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err(), "the user chose: nothing to note");
    assertTrue(r.out().contains("preload none"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith(MODELS + " ")), "a row for every cap up to " + MODELS);
  }

  @Test
  void setOverridesBeforeValidation_aModelOfTheTable() {
    CliTest.Result curve = CliTest.run("curve", "--trace", trace.toString(), "--set", "MLX_PRELOAD_MODELS=fleet-03:4b");
    assertEquals(0, curve.code(), curve.err());
    assertTrue(curve.out().contains("preload fleet-03:4b"), curve.out());
    CliTest.Result simulate = CliTest.run("simulate", "--trace", trace.toString(), "-o", dir.resolve("out").toString(),
        "--set", "MLX_PRELOAD_MODELS=fleet-03:4b,fleet-04:5b", "--set", "MLX_MAX_CACHED_MODELS=4");
    assertEquals(0, simulate.code(), simulate.err());
    assertFalse(simulate.err().contains("MLX_PRELOAD_MODELS"), simulate.err());
  }

  @Test
  void aPreloadTheUserGave_isStillChecked() {
    CliTest.Result r = CliTest.run("curve", "--trace", trace.toString(), "--set", "MLX_PRELOAD_MODELS=fast");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("mlxcap: MLX_PRELOAD_MODELS='fast' is invalid: unknown model 'fast'; known models: "),
        r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }
}
