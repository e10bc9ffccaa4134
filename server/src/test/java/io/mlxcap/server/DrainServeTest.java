package io.mlxcap.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} as a process, stopped with SIGTERM while it works: it drains (new requests 503,
 * the one in flight finishes within --drain, or is cancelled past it), and the trace records every
 * outcome before its end line. Also: an empty MLX_API_KEY means no key, with a warning.
 */
final class DrainServeTest {
  @TempDir Path dir;
  private final HttpClient client = HttpClient.newHttpClient();

  private record Server(Process process, int port, Path err) {}

  private Server serve(String drain, String apiKey, String... env) throws Exception {
    TestModels.dir();
    Path err = dir.resolve("stderr-" + drain + ".txt");
    String javaCommand = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder builder = new ProcessBuilder(javaCommand, "-cp", System.getProperty("java.class.path"),
        "-Dai.djl.offline=true", "-Dmlxcap.djlCache=" + System.getProperty("ENGINE_CACHE_DIR", "target/djl-cache"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "io.mlxcap.server.ServerMain", "serve",
        "--models-dir", TestModels.dir().toString(), "--port", "0", "--trace", dir.resolve("t-" + drain + ".jsonl").toString(),
        "--memory-sample", "0s", "--drain", drain);
    builder.environment().keySet().removeIf(k -> k.startsWith("MLX_"));
    builder.environment().put("MLX_PRELOAD_MODELS", "");
    for (int i = 0; i < env.length; i += 2) {
      builder.environment().put(env[i], env[i + 1]);
    }
    if (apiKey != null) {
      builder.environment().put("MLX_API_KEY", apiKey);
    }
    builder.redirectError(err.toFile());
    Process process = builder.start();
    String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
    assertTrue(line != null && line.startsWith("mlxcap serve: listening on"), line + " / " + Files.readString(err));
    return new Server(process, Integer.parseInt(line.replaceAll(".*:(\\d+),.*", "$1")), err);
  }

  private HttpResponse<String> post(int port, String path, String body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private CompletableFuture<HttpResponse<String>> postLater(int port, String path, String body) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void waitUntilBusy(int port) throws Exception {
    for (int i = 0; i < 2000; i++) {
      JsonNode cache = TestServer.JSON.readTree(client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/admin/cache")).build(), HttpResponse.BodyHandlers.ofString()).body());
      if (cache.at("/models/0/pins").asInt() > 0 && cache.at("/models/0/state").asText().equals("resident")) {
        return;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("the request never started generating");
  }

  private List<TraceEvent> trace(String drain) {
    try (TraceReader reader = TraceReader.open(dir.resolve("t-" + drain + ".jsonl"), TraceReader.Mode.STRICT)) {
      return reader.events().collect(Collectors.toList());
    }
  }

  @Test
  void sigterm_letsTheRequestInFlightFinish_refusesNewOnes_andEndsTheTraceLast() throws Exception {
    // Two workers: the probes after SIGTERM never queue behind the request in flight.
    Server s = serve("60s", "", "MLX_MAX_CONCURRENT_REQUESTS", "2");
    try {
      CompletableFuture<HttpResponse<String>> inFlight = postLater(s.port(), "/api/generate",
          "{\"model\":\"command-r-plus:104b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":200}}");
      waitUntilBusy(s.port());
      s.process().destroy(); // SIGTERM
      HttpResponse<String> refused = null;
      for (int i = 0; i < 2000 && (refused == null || refused.statusCode() != 503); i++) {
        refused = post(s.port(), "/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}");
      }
      assertEquals(503, refused.statusCode(), refused.body());
      assertEquals("5", refused.headers().firstValue("Retry-After").orElse(""));
      HttpResponse<String> done = inFlight.get(120, TimeUnit.SECONDS);
      assertEquals(200, done.statusCode(), done.body());
      assertEquals(200, TestServer.JSON.readTree(done.body()).get("eval_count").asInt(), "the whole answer, not an empty reply");
      assertTrue(s.process().waitFor(60, TimeUnit.SECONDS), "the server exits once drained");
      List<String> notes = Files.readAllLines(s.err()).stream().filter(l -> l.startsWith("mlxcap: ")).toList();
      assertEquals(List.of("mlxcap: warning: MLX_API_KEY is set but empty: no API key is required"), notes);
    } finally {
      s.process().destroyForcibly();
    }
    List<TraceEvent> events = trace("60s");
    TraceEvent.RequestDone first = events.stream().filter(e -> e instanceof TraceEvent.RequestDone)
        .map(e -> (TraceEvent.RequestDone) e).filter(d -> d.id().equals("r1")).findFirst().orElseThrow();
    assertEquals(TraceEvent.Status.OK, first.status());
    assertTrue(events.get(events.size() - 1) instanceof TraceEvent.End, "end comes after the last request_done");
  }

  @Test
  void sigterm_pastTheGrace_cancelsAndRecordsIt() throws Exception {
    Server s = serve("0s", null);
    try {
      CompletableFuture<HttpResponse<String>> inFlight = postLater(s.port(), "/api/generate",
          "{\"model\":\"command-r-plus:104b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":4096}}");
      waitUntilBusy(s.port());
      s.process().destroy();
      HttpResponse<String> r = inFlight.get(60, TimeUnit.SECONDS);
      assertEquals(503, r.statusCode(), r.body());
      assertTrue(r.body().contains("cancelled: the server is shutting down"), r.body());
      assertTrue(s.process().waitFor(60, TimeUnit.SECONDS));
      assertTrue(Files.readString(s.err()).contains("mlxcap serve: cancelled 1 requests still running after --drain 0s"),
          Files.readString(s.err()));
    } finally {
      s.process().destroyForcibly();
    }
    List<TraceEvent> events = trace("0s");
    assertEquals(List.of(TraceEvent.Status.CANCELLED), events.stream().filter(e -> e instanceof TraceEvent.RequestDone)
        .map(e -> ((TraceEvent.RequestDone) e).status()).toList());
    assertTrue(events.get(events.size() - 1) instanceof TraceEvent.End);
  }
}
