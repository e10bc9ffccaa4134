package io.mlxcap.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A recorder killed with SIGKILL mid-run leaves every event it reported written, readable. */
final class TraceCrashTest {

  @Test
  void killedRecorder_losesNothingItReportedWritten(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("crash.jsonl");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        CrashingRecorder.class.getName(), trace.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    long reported = 0;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        reported = Long.parseLong(line.substring("written ".length()));
        if (reported >= 200) {
          process.destroyForcibly();
          break;
        }
      }
    }
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    assertFalse(process.isAlive());
    assertEquals(200, reported);
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      List<TraceEvent> events = reader.events().collect(Collectors.toList());
      assertTrue(events.size() >= reported, events.size() + " events on disk, " + reported + " reported written");
      for (int i = 0; i < events.size(); i++) {
        assertEquals("r" + i, ((TraceEvent.Request) events.get(i)).id());
      }
      assertFalse(reader.report().ended(), "killed, not closed");
    }
  }
}
