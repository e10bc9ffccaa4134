package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.calibrate.Calibration;
import io.mlxcap.calibrate.Validation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prediction scripts/close-the-loop.sh saved before run B (traces/samples/loop-b-prediction.json):
 * it is what {@code calibrate} on run A and {@code simulate} of B's workload under B's settings give
 * today, and it meets the targets against what run B then measured: peak RSS within 5 %, cold-start
 * wait p50 and p95 within 10 %.
 */
final class SavedPredictionTest {
  private static final Path SAMPLES = Path.of("").toAbsolutePath().getParent().resolve("traces/samples");
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void savedPrediction_isTodaysPrediction_andMeetsTheTargetsAgainstRunB() throws Exception {
    JsonNode saved = JSON.readTree(SAMPLES.resolve("loop-b-prediction.json").toFile());
    Path profile = dir.resolve("profile-a.json");
    assertEquals(0, CliTest.run("calibrate", "--trace", SAMPLES.resolve("loop-a.jsonl").toString(), "-o", profile.toString()).code());
    List<String> args = new ArrayList<>(List.of("simulate", "--trace", SAMPLES.resolve("loop-b-workload.jsonl").toString(),
        "--profile", profile.toString(), "-o", dir.resolve("prediction").toString()));
    saved.get("settings").fields().forEachRemaining(e -> {
      args.add("--set");
      args.add(e.getKey() + "=" + e.getValue().asText());
    });
    CliTest.Result r = CliTest.run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    JsonNode today = JSON.readTree(dir.resolve("prediction/summary.json").toFile());
    for (String figure : List.of("peak_rss_bytes", "cold_start_wait_s", "cold_starts", "loads", "evictions")) {
      assertEquals(saved.get(figure), today.get(figure), figure + ": the saved prediction is not what this code predicts");
    }

    Validation.Result b = Validation.run(SAMPLES.resolve("loop-b.jsonl"), Calibration.fit(SAMPLES.resolve("loop-a.jsonl")).profile(), 5, 10);
    assertWithin(5, measured(b, "peak RSS"), saved.get("peak_rss_bytes").get("expected").asDouble(), "peak RSS");
    assertWithin(10, measured(b, "cold-start wait p50"), saved.get("cold_start_wait_s").get("p50").asDouble(), "cold-start wait p50");
    assertWithin(10, measured(b, "cold-start wait p95"), saved.get("cold_start_wait_s").get("p95").asDouble(), "cold-start wait p95");
  }

  private static double measured(Validation.Result r, String name) {
    return r.rows().stream().filter(row -> row.name().equals(name)).findFirst().orElseThrow().measured();
  }

  private static void assertWithin(double percent, double measured, double predicted, String what) {
    double error = 100 * (predicted - measured) / measured;
    assertTrue(Math.abs(error) <= percent, String.format("%s: saved prediction %.4g against %.4g measured in run B: %+.1f %%",
        what, predicted, measured, error));
  }
}
