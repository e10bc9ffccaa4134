package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mlxcap sweep} as a user meets it, on the bundled seed-scenario day. */
final class SweepCommandTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static final String SEED = REPO.resolve("traces/samples/seed-scenario.jsonl").toString();

  @TempDir Path dir;

  /** The CSV as rows of column name to value. */
  static List<Map<String, String>> csv(Path file) throws Exception {
    List<String> lines = Files.readAllLines(file);
    String[] header = lines.get(0).split(",");
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      List<String> cells = new ArrayList<>();
      StringBuilder cell = new StringBuilder();
      boolean quoted = false;
      for (char c : line.toCharArray()) {
        if (c == '"') {
          quoted = !quoted;
        } else if (c == ',' && !quoted) {
          cells.add(cell.toString());
          cell.setLength(0);
        } else {
          cell.append(c);
        }
      }
      cells.add(cell.toString());
      Map<String, String> row = new HashMap<>();
      for (int i = 0; i < header.length; i++) {
        row.put(header[i], cells.get(i));
      }
      rows.add(row);
    }
    return rows;
  }

  @Test
  void sameBytes_whateverTheThreadCount() throws Exception {
    String[] grid = {"--grid", "MLX_MAX_CACHED_MODELS=1..4", "--grid", "MLX_MAX_CACHE_BYTES=off,64GiB",
        "--grid", "MLX_MODEL_IDLE_TTL_SEC=off,900"};
    CliTest.Result one = run(grid, "--threads", "1", "-o", dir.resolve("one").toString());
    CliTest.Result two = run(grid, "--threads", "2", "-o", dir.resolve("two").toString());
    assertEquals(0, one.code(), one.err());
    assertEquals(0, two.code(), two.err());
    for (String file : List.of("sweep.csv", "sweep.json")) {
      assertArrayEquals(Files.readAllBytes(dir.resolve("one").resolve(file)), Files.readAllBytes(dir.resolve("two").resolve(file)),
          file);
    }
    assertEquals(17, Files.readAllLines(dir.resolve("one/sweep.csv")).size(), "a header and 16 configurations");
  }

  private static CliTest.Result run(String[] grid, String... more) {
    List<String> args = new ArrayList<>(List.of("sweep", "--trace", SEED));
    args.addAll(Arrays.asList(grid));
    args.addAll(Arrays.asList(more));
    return CliTest.run(args.toArray(String[]::new));
  }

  // The sweep runs the same simulation as simulate: each row is what simulate says of its settings.
  @Test
  void aRow_equalsSimulateOfTheSameSettings() throws Exception {
    CliTest.Result sweep = CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_MAX_CACHED_MODELS=2,3",
        "--grid", "MLX_MAX_CACHE_BYTES=off,64GiB", "-o", dir.resolve("sweep").toString());
    assertEquals(0, sweep.code(), sweep.err());
    Map<String, String> row = csv(dir.resolve("sweep/sweep.csv")).stream()
        .filter(r -> r.get("MLX_MAX_CACHED_MODELS").equals("3") && r.get("MLX_MAX_CACHE_BYTES").equals("64GiB"))
        .findFirst().orElseThrow();
    CliTest.Result simulate = CliTest.run("simulate", "--trace", SEED, "--set", "MLX_MAX_CACHED_MODELS=3",
        "--set", "MLX_MAX_CACHE_BYTES=64GiB", "-o", dir.resolve("simulate").toString());
    assertEquals(0, simulate.code(), simulate.err());
    JsonNode summary = new ObjectMapper().readTree(dir.resolve("simulate/summary.json").toFile());
    for (String bound : List.of("low", "expected", "high")) {
      assertEquals(summary.get("peak_rss_bytes").get(bound).asText(), row.get("peak_rss_" + bound + "_bytes"), bound);
      assertEquals(summary.get("mean_rss_bytes").get(bound).asText(), row.get("mean_rss_" + bound + "_bytes"), bound);
    }
    assertEquals(summary.get("cold_starts").asText(), row.get("cold_starts"));
    assertEquals(summary.get("evictions").get("budget").asText(), row.get("evictions_budget"));
    assertEquals(summary.get("cold_start_wait_s").get("p95").asDouble(), Double.parseDouble(row.get("cold_wait_p95_s")), 1e-9);
    assertEquals(summary.get("latency_s").get("p99").asDouble(), Double.parseDouble(row.get("latency_p99_s")), 1e-9);
  }

  @Test
  void recommendation_fewestColdStartsWithinTheBudget_andTheFronts() throws Exception {
    CliTest.Result r = CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_MAX_CACHED_MODELS=1..4",
        "-o", dir.resolve("a").toString());
    assertEquals(0, r.code(), r.err());
    List<Map<String, String>> rows = csv(dir.resolve("a/sweep.csv"));
    // Default budget 128 GiB - 8 GiB = 128.8 GB: cap 3 peaks at 141.3 GB (high), cap 2 at 116.6 GB.
    assertEquals(List.of("false", "true", "false", "false"), rows.stream().map(x -> x.get("recommended")).toList());
    assertEquals(List.of("true", "true", "false", "false"), rows.stream().map(x -> x.get("fits_budget")).toList());
    assertTrue(r.out().contains("recommended    MLX_MAX_CACHED_MODELS=2"), r.out());
    // More cached models: more peak, fewer loads, until cap 4, where the 95 % pressure rule unloads what the cap
    // would keep: as many loads as cap 3 for a higher peak, so off the front.
    assertEquals(List.of("true", "true", "true", "false"), rows.stream().map(x -> x.get("pareto_peak_loads")).toList());
    assertEquals(rows.get(2).get("loads"), rows.get(3).get("loads"));
    assertEquals("56", rows.get(3).get("evictions_pressure"));
    assertEquals("deepseek-r1-distill-llama:70b+command-r-plus:104b", rows.get(1).get("peak_models_high"),
        "the seed's lesson: a cap of 2 lets the two largest sit together");

    CliTest.Result tight = CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_MAX_CACHED_MODELS=1..4",
        "--budget", "70GB", "-o", dir.resolve("b").toString());
    assertEquals(0, tight.code(), tight.err());
    assertTrue(tight.out().contains("recommended    MLX_MAX_CACHED_MODELS=1"), tight.out());
  }

  @Test
  void aCombinationTheSettingsRefuse_isSkippedAndListed() throws Exception {
    CliTest.Result r = CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_CACHE_CLEANUP_INTERVAL_SEC=0,600",
        "--grid", "MLX_MODEL_IDLE_TTL_SEC=off,900", "-o", dir.resolve("s").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("3 configurations simulated, 1 skipped"), r.out());
    assertTrue(r.out().contains("skipped        MLX_CACHE_CLEANUP_INTERVAL_SEC=0 MLX_MODEL_IDLE_TTL_SEC=900: "
        + "MLX_MODEL_IDLE_TTL_SEC='900' needs periodic cleanup"), r.out());
    JsonNode json = new ObjectMapper().readTree(dir.resolve("s/sweep.json").toFile());
    assertEquals(1, json.get("skipped").size());
    assertEquals(3, json.get("configurations").size());
  }

  @Test
  void badInput_oneSentence_exit2_nothingWritten() throws Exception {
    Path out = dir.resolve("out");
    String[][] cases = {
      {"--grid", "MLX_MAX_CACHE_MODELS=1,2"},
      {"--grid", "MLX_MAX_CACHED_MODELS=1,none"},
      {},
      {"--grid", "MLX_MAX_CACHED_MODELS=1..4", "--budget", "1GB"},
      {"--grid", "MLX_MAX_QUEUE=0..999", "--grid", "MLX_MAX_CACHED_MODELS=1..101"},
      {"--grid", "MLX_MAX_CACHED_MODELS=1", "--threads", "0"},
    };
    String[] starts = {
      "mlxcap: --grid MLX_MAX_CACHE_MODELS: not a setting or host parameter",
      "mlxcap: --grid MLX_MAX_CACHED_MODELS: MLX_MAX_CACHED_MODELS='none' is invalid",
      "mlxcap: the grid is empty",
      "mlxcap: no configuration's peak RSS (high bound) stays within the budget of 1.0 GB; the closest is"
          + " MLX_MAX_CACHED_MODELS=1 at 66.7 GB",
      "mlxcap: the grid holds 101,000 configurations, more than 100,000; narrow an axis or add --force",
      "mlxcap: --threads must be at least 1, was 0",
    };
    for (int i = 0; i < cases.length; i++) {
      List<String> args = new ArrayList<>(List.of("sweep", "--trace", SEED, "-o", out.toString()));
      args.addAll(Arrays.asList(cases[i]));
      CliTest.Result r = CliTest.run(args.toArray(String[]::new));
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().startsWith(starts[i]), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertFalse(Files.exists(out), "nothing written for case " + i);
    }
  }

  @Test
  void anOutputFolderOfOtherFiles_isNotReplaced() throws Exception {
    Path out = Files.createDirectories(dir.resolve("mine"));
    Files.writeString(out.resolve("notes.txt"), "keep me");
    CliTest.Result r = CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_MAX_CACHED_MODELS=2", "-o", out.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("mlxcap: -o " + out + " exists and is not an earlier mlxcap output"), r.err());
    assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
    // An earlier sweep's folder is replaced as a whole.
    Path earlier = dir.resolve("earlier");
    CliTest.Result first = CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_MAX_CACHED_MODELS=1,2", "-o", earlier.toString());
    assertEquals(0, first.code(), first.err());
    assertEquals(0, CliTest.run("sweep", "--trace", SEED, "--grid", "MLX_MAX_CACHED_MODELS=2", "-o", earlier.toString()).code());
    assertEquals(2, Files.readAllLines(earlier.resolve("sweep.csv")).size());
  }

  @Test
  void report_aBudgetNobodyMeets_namesTheClosest_andWritesNothing() {
    Path out = dir.resolve("report");
    CliTest.Result r = CliTest.run("report", "--trace", SEED, "--budget", "1GB", "-o", out.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("mlxcap: no configuration's peak RSS (high bound) stays within the budget of 1.0 GB;"
        + " the closest is "), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertFalse(Files.exists(out));
  }
}
