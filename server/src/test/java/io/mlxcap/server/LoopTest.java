package io.mlxcap.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.calibrate.Calibration;
import io.mlxcap.calibrate.Validation;
import io.mlxcap.drive.Driver;
import io.mlxcap.trace.TraceEvent;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop on real parts, small: drive sends a trace to a real server on a real port, the server
 * records it, calibrate fits the recording, and validate's replay makes the loads and evictions the
 * server made, in order. (The full experiment, with its error targets, is scripts/close-the-loop.sh.)
 */
final class LoopTest {
  @TempDir Path dir;

  private Path workload() throws IOException {
    List<String> lines = new ArrayList<>();
    String[] models = {"fast", "default", "fast", "reasoning", "default", "fast", "command-r-plus:104b", "fast", "reasoning",
        "default", "fast", "reasoning", "fast", "default", "command-r-plus:104b", "fast"};
    for (int i = 0; i < models.length; i++) {
      lines.add("{\"type\":\"request\",\"t_ms\":" + i * 150 + ",\"model\":\"" + models[i] + "\",\"prompt_tokens\":" + (40 + 7 * i)
          + ",\"max_tokens\":" + (3 + i % 4) + "}");
    }
    Path file = dir.resolve("workload.jsonl");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  @Test
  void drive_record_calibrate_validate_sameDecisions() throws Exception {
    Path recording = dir.resolve("recorded.jsonl");
    Driver.Summary seen;
    try (TestServer s = TestServer.start(recording, "MLX_MAX_CACHED_MODELS", "2", "MLX_PRELOAD_MODELS", "fast")) {
      Driver driver = new Driver(new Driver.Options(URI.create("http://127.0.0.1:" + s.port), Driver.Api.OPENAI, 1, 0, null, 1,
          dir.resolve("client.jsonl")));
      List<TraceEvent.Request> requests = driver.requests(workload());
      driver.check(requests);
      seen = driver.run(requests, i -> { });
      assertEquals(0, s.host.drain(Duration.ofSeconds(30)), "every request had answered");
    }
    assertEquals(16, seen.sent());
    assertEquals(16, seen.ok(), Driver.describe(seen).toString());
    Calibration.Result fit = Calibration.fit(recording);
    assertTrue(fit.profile().figures().get("load_bytes_per_s").observations() >= 5, fit.quality().toString());
    Validation.Result v = Validation.run(recording, fit.profile(), 5, 10);
    assertEquals(-1, v.firstDivergence(), String.join("\n", Validation.describe(v, 5, 10)));
    assertTrue(v.recorded().size() >= 10, "a run with plenty of loads and evictions: " + v.recorded());
  }
}
