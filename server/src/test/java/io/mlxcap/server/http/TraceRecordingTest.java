package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.EvictionReason;
import io.mlxcap.server.TestModels;
import io.mlxcap.server.TestServer;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.io.BufferedReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's trace holds its settings, every request and outcome, loads, evictions, memory, and its end. */
final class TraceRecordingTest {

  @Test
  void everyKindOfEvent_isRecorded(@TempDir Path dir) {
    Path trace = dir.resolve("t.jsonl");
    try (TestServer s = TestServer.start(trace, "MLX_MAX_CACHED_MODELS", "1")) {
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"one\",\"max_tokens\":3}").statusCode());
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"two\",\"max_tokens\":3}").statusCode());
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"default\",\"prompt\":\"three\",\"max_tokens\":3}").statusCode());
    }
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      TraceHeader header = reader.header();
      assertEquals("1", header.settings().get("MLX_MAX_CACHED_MODELS"));
      assertEquals(TestModels.table(), header.models().orElseThrow());
      assertTrue(header.hostRamBytes() > 0 && header.hostCores() > 0);
      List<TraceEvent> all = reader.events().collect(Collectors.toList());
      // Memory samples come after each load and after each unload's close, which runs beside the next load.
      List<TraceEvent> events = all.stream().filter(e -> !(e instanceof TraceEvent.Memory)).toList();
      List<String> kinds = new ArrayList<>();
      events.forEach(e -> kinds.add(e.getClass().getSimpleName()));
      assertEquals(List.of("Request", "LoadStart", "Load", "RequestDone", "Request", "RequestDone", "Request",
          "Evict", "LoadStart", "Load", "RequestDone", "End"), kinds);
      assertEquals(3, all.stream().filter(e -> e instanceof TraceEvent.Memory m && m.rssBytes() > 0).count());
      TraceEvent.Request first = (TraceEvent.Request) events.get(0);
      assertEquals("fast", first.model());
      assertEquals(3, first.promptTokens());
      assertEquals(3, first.maxTokens());
      TraceEvent.Load load = (TraceEvent.Load) events.get(2);
      assertEquals(TestModels.table().resolve("fast").size().expectedBytes(), load.bytes());
      assertTrue(load.durationNanos() > 0);
      TraceEvent.RequestDone cold = (TraceEvent.RequestDone) events.get(3);
      assertEquals(TraceEvent.Status.OK, cold.status());
      assertEquals(3, cold.outputTokens());
      assertTrue(cold.loadWaitNanos() >= load.durationNanos(), "waited for the whole load");
      TraceEvent.RequestDone hit = (TraceEvent.RequestDone) events.get(5);
      assertTrue(hit.loadWaitNanos() < cold.loadWaitNanos(), "a hit waits for no load");
      assertEquals(EvictionReason.MAX_MODELS, ((TraceEvent.Evict) events.get(7)).reason());
      events = all;
      for (int i = 1; i < events.size(); i++) {
        assertTrue(events.get(i).timeNanos() >= events.get(i - 1).timeNanos(), "time order at " + i);
      }
    }
  }

  @Test
  void sigterm_flushesAndEndsTheTrace(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("serve.jsonl");
    String javaCommand = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder builder = new ProcessBuilder(javaCommand, "-cp", System.getProperty("java.class.path"),
        "-Dai.djl.offline=true", "-Dmlxcap.djlCache=" + System.getProperty("ENGINE_CACHE_DIR", "target/djl-cache"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "io.mlxcap.server.ServerMain", "serve",
        "--models-dir", TestModels.dir().toString(), "--port", "0", "--trace", trace.toString(), "--memory-sample", "0");
    builder.environment().put("MLX_PRELOAD_MODELS", "fast");
    builder.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process process = builder.start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertTrue(line != null && line.startsWith("mlxcap serve: listening on http://127.0.0.1:"), String.valueOf(line));
      int port = Integer.parseInt(line.replaceAll(".*:(\\d+),.*", "$1"));
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/generate"))
              .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fast\",\"prompt\":\"x\",\"stream\":false}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      process.destroy(); // SIGTERM
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    } finally {
      process.destroyForcibly();
    }
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      List<TraceEvent> events = reader.events().collect(Collectors.toList());
      assertTrue(reader.report().ended(), "the trace ends with an end line");
      assertTrue(events.stream().anyMatch(e -> e instanceof TraceEvent.Load l && l.cause() == io.mlxcap.cache.LoadCause.PRELOAD));
      assertTrue(events.stream().anyMatch(e -> e instanceof TraceEvent.RequestDone d && d.status() == TraceEvent.Status.OK));
    }
  }
}
