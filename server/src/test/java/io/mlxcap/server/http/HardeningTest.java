package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.TestModels;
import io.mlxcap.server.TestServer;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.host.ServerMetrics;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a hostile client or a careful operator finds: origins, error shapes, context, keep-alive, compatibility. */
final class HardeningTest {
  @TempDir Path dir;

  /** One raw HTTP/1.1 exchange, so a test can send what HttpClient will not (a Host header, a huge URI). */
  static String raw(int port, String request) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        got.write(buffer, 0, n);
      }
      return got.toString(StandardCharsets.UTF_8);
    }
  }

  private static String body(String response) {
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  private static HttpResponse<String> get(TestServer s, String path, String header, String value) {
    return s.send(s.request(path).header(header, value).GET().build());
  }

  @Test
  void origins_loopbackAndAllowedOnly_hostMustBeLoopback() throws Exception {
    try (TestServer s = TestServer.start(null)) {
      HttpResponse<String> evil = get(s, "/v1/models", "Origin", "https://evil.example");
      assertEquals(403, evil.statusCode());
      assertEquals("the origin 'https://evil.example' is not allowed; add it to MLX_ALLOWED_ORIGINS (comma-separated) to allow it",
          TestServer.json(evil).at("/error/message").asText());
      HttpResponse<String> admin = s.send(s.request("/admin/models/fast/load").header("Origin", "https://evil.example")
          .POST(HttpRequest.BodyPublishers.noBody()).build());
      assertEquals(403, admin.statusCode(), "a web page cannot load models through a visitor's browser");
      HttpResponse<String> local = get(s, "/v1/models", "Origin", "http://localhost:3000");
      assertEquals(200, local.statusCode());
      assertEquals("http://localhost:3000", local.headers().firstValue("Access-Control-Allow-Origin").orElse(""));

      String rebound = raw(s.port, "GET /api/tags HTTP/1.1\r\nHost: attacker.example:11435\r\nConnection: close\r\n\r\n");
      assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);
      assertTrue(body(rebound).contains("is not a loopback name"), rebound);
      String fine = raw(s.port, "GET /api/tags HTTP/1.1\r\nHost: localhost:" + s.port + "\r\nConnection: close\r\n\r\n");
      assertTrue(fine.startsWith("HTTP/1.1 200"), fine);
    }
    ModelTable table = TestModels.table();
    Settings settings = Settings.fromEnv(Map.of("MLX_PRELOAD_MODELS", ""), table);
    try (ModelHost host = new ModelHost(settings, table, TestModels.dir(), Ticker.system(), null, new ServerMetrics());
        ApiServer api = new ApiServer(host, new ApiServer.Options("127.0.0.1", 0, null, 65536,
            List.of("https://app.example", "dev.internal")))) {
      int port = api.start();
      assertTrue(raw(port, "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n")
          .startsWith("HTTP/1.1 200"));
      assertTrue(raw(port, "GET /api/tags HTTP/1.1\r\nHost: dev.internal:8080\r\nConnection: close\r\n\r\n")
          .startsWith("HTTP/1.1 200"), "a host named in MLX_ALLOWED_ORIGINS");
      assertTrue(raw(port, "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nOrigin: https://other.example\r\nConnection: close\r\n\r\n")
          .startsWith("HTTP/1.1 403"));
    }
  }

  @Test
  void everyErrorIsJson_inTheApisShape() throws Exception {
    try (TestServer s = TestServer.start(null, "MLX_MAX_CONCURRENT_REQUESTS", "1", "MLX_MAX_QUEUE", "0")) {
      HttpResponse<String> missing = s.get("/v1/nothing");
      assertEquals(404, missing.statusCode());
      assertEquals("no such endpoint: GET /v1/nothing", TestServer.json(missing).at("/error/message").asText());
      HttpResponse<String> wrongMethod = s.get("/v1/chat/completions");
      assertEquals(405, wrongMethod.statusCode());
      assertEquals("GET is not allowed on /v1/chat/completions; see the API's documented methods",
          TestServer.json(wrongMethod).at("/error/message").asText());
      HttpResponse<String> ollamaWrong = s.get("/api/generate");
      assertEquals(405, ollamaWrong.statusCode());
      assertTrue(TestServer.json(ollamaWrong).get("error").isTextual(), "Ollama's shape: " + ollamaWrong.body());

      String longUri = raw(s.port, "GET /v1/models?x=" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      assertTrue(longUri.startsWith("HTTP/1.1 414"), longUri.lines().findFirst().orElse(""));
      assertEquals("the request URI is too long", TestServer.JSON.readTree(body(longUri)).at("/error/message").asText());
      String bigHeader = raw(s.port, "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "b".repeat(20_000)
          + "\r\nConnection: close\r\n\r\n");
      assertTrue(bigHeader.startsWith("HTTP/1.1 431"), bigHeader.lines().findFirst().orElse(""));
      assertEquals("the request headers are too large", TestServer.JSON.readTree(body(bigHeader)).at("/error/message").asText());

      HttpRequest longOne = s.request("/api/generate").POST(HttpRequest.BodyPublishers.ofString(
          "{\"model\":\"command-r-plus:104b\",\"prompt\":\"x\",\"options\":{\"num_predict\":4096}}")).build();
      HttpResponse<InputStream> busy = s.client.send(longOne, HttpResponse.BodyHandlers.ofInputStream());
      busy.body().readNBytes(50);
      HttpResponse<String> refused = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}");
      assertEquals(503, refused.statusCode());
      assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""), "503 says when to try again");
      busy.body().close();
    }
  }

  @Test
  void openAi_stopSequences_oneChoice_knownRoles_oneModel() {
    try (TestServer s = TestServer.start(null)) {
      JsonNode whole = TestServer.json(s.post("/v1/completions",
          "{\"model\":\"fast\",\"prompt\":\"abc\",\"max_tokens\":12,\"temperature\":0}"));
      String text = whole.at("/choices/0/text").asText();
      assertEquals(12, text.length());
      String stop = text.substring(5, 7);
      JsonNode cut = TestServer.json(s.post("/v1/completions",
          "{\"model\":\"fast\",\"prompt\":\"abc\",\"max_tokens\":12,\"temperature\":0,\"stop\":[" + TestServer.JSON.valueToTree(stop) + "]}"));
      assertEquals(text.substring(0, text.indexOf(stop)), cut.at("/choices/0/text").asText(), "cut before the stop sequence");
      assertEquals("stop", cut.at("/choices/0/finish_reason").asText());
      assertEquals("length", whole.at("/choices/0/finish_reason").asText());

      HttpResponse<String> two = s.post("/v1/chat/completions",
          "{\"model\":\"fast\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
      assertEquals(400, two.statusCode());
      assertEquals("'n' must be 1: this server returns one choice per request, was 2", TestServer.json(two).at("/error/message").asText());
      HttpResponse<String> role = s.post("/v1/chat/completions", "{\"model\":\"fast\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}");
      assertEquals(400, role.statusCode());
      assertTrue(TestServer.json(role).at("/error/message").asText().startsWith("'messages[0].role' must be one of system,"));

      HttpResponse<String> model = s.get("/v1/models/qwen2.5-coder:32b");
      assertEquals(200, model.statusCode());
      assertEquals("qwen2.5-coder:32b", TestServer.json(model).get("id").asText());
      assertEquals(404, s.get("/v1/models/gpt-4").statusCode());
    }
  }

  @Test
  void ollama_root_show_latest_keepAlive() throws Exception {
    Path trace = dir.resolve("t.jsonl");
    try (TestServer s = TestServer.start(trace, "MLX_MODEL_IDLE_TTL_SEC", "600", "MLX_CACHE_CLEANUP_INTERVAL_SEC", "60")) {
      assertEquals("Ollama is running", s.get("/").body());
      assertEquals(200, s.send(s.request("/").method("HEAD", HttpRequest.BodyPublishers.noBody()).build()).statusCode());
      JsonNode show = TestServer.json(s.post("/api/show", "{\"model\":\"fast:latest\"}"));
      assertEquals(131072, show.at("/model_info/mlxcap.context_length").asLong());
      assertEquals(404, s.post("/api/show", "{\"model\":\"nope\"}").statusCode());

      assertEquals(200, s.post("/api/generate", "{\"model\":\"fast\",\"prompt\":\"x\",\"stream\":false,\"keep_alive\":\"10m\","
          + "\"options\":{\"num_predict\":2}}").statusCode());
      Instant expires = Instant.parse(TestServer.json(s.get("/api/ps")).at("/models/0/expires_at").asText());
      assertTrue(expires.isAfter(Instant.now().plusSeconds(590)) && expires.isBefore(Instant.now().plusSeconds(610)), expires.toString());
      assertEquals(200, s.post("/api/generate", "{\"model\":\"fast\",\"prompt\":\"x\",\"stream\":false,\"keep_alive\":-1,"
          + "\"options\":{\"num_predict\":2}}").statusCode());
      assertEquals("2318-01-01T00:00:00Z", TestServer.json(s.get("/api/ps")).at("/models/0/expires_at").asText());

      JsonNode unload = TestServer.json(s.post("/api/generate", "{\"model\":\"fast\",\"prompt\":\"\",\"keep_alive\":0}"));
      assertEquals("unload", unload.get("done_reason").asText());
      assertEquals(0, TestServer.json(s.get("/api/ps")).get("models").size(), "keep_alive 0 with no prompt unloads");
      JsonNode load = TestServer.json(s.post("/api/chat", "{\"model\":\"fast\",\"messages\":[]}"));
      assertEquals("load", load.get("done_reason").asText());
      assertEquals(1, TestServer.json(s.get("/api/ps")).get("models").size(), "no messages loads the model");
      HttpResponse<String> bad = s.post("/api/generate", "{\"model\":\"fast\",\"prompt\":\"x\",\"keep_alive\":\"soon\"}");
      assertEquals(400, bad.statusCode());
      assertTrue(TestServer.json(bad).get("error").asText().startsWith("'keep_alive' must be"));
    }
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      List<Long> keepAlives = reader.events().filter(e -> e instanceof TraceEvent.Request)
          .map(e -> ((TraceEvent.Request) e).keepAliveNanos()).toList();
      assertEquals(List.of(600_000_000_000L, TraceEvent.KEEP_ALIVE_FOREVER, 0L, TraceEvent.UNKNOWN), keepAlives,
          "each request's keep_alive recorded for the replay");
    }
  }

  @Test
  void pastTheContext_400InEachApisShape_andRecorded() throws Exception {
    Path models = FaultsTest.copyModels(dir);
    ModelSpec fast = TestModels.table().resolve("fast");
    ModelSpec small = new ModelSpec(fast.name(), fast.aliases(), fast.size(), fast.performance(), new ModelSpec.Details(0, 64, ""));
    com.fasterxml.jackson.databind.node.ObjectNode root = TestServer.JSON.createObjectNode();
    root.set("models", ModelTable.of(List.of(small)).toJsonArray());
    Files.writeString(models.resolve("models.json"), root.toString());
    Path trace = dir.resolve("t.jsonl");
    try (TestServer s = new TestServer(models, trace, null)) {
      HttpResponse<String> openai = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"" + "y".repeat(60) + "\",\"max_tokens\":5}");
      assertEquals(400, openai.statusCode());
      assertEquals("context_length_exceeded", TestServer.json(openai).at("/error/code").asText());
      assertEquals("this request needs 65 tokens (60 of prompt + 5 to generate), more than the 64-token context of phi3.5:3.8b",
          TestServer.json(openai).at("/error/message").asText());
      HttpResponse<String> ollama = s.post("/api/generate", "{\"model\":\"fast\",\"prompt\":\"" + "y".repeat(60)
          + "\",\"options\":{\"num_predict\":5}}");
      assertEquals(400, ollama.statusCode());
      assertTrue(TestServer.json(ollama).get("error").asText().startsWith("this request needs 65 tokens"));
      assertEquals(0, TestServer.json(s.get("/api/ps")).get("models").size(), "nothing was loaded for them");
    }
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      assertEquals(2, reader.events().filter(e -> e instanceof TraceEvent.RequestDone d && d.status() == TraceEvent.Status.REJECTED)
          .count());
    }
  }

  @Test
  void metrics_rssReadAtScrape() {
    try (TestServer s = TestServer.start(null)) {
      String line = s.get("/metrics").body().lines().filter(l -> l.startsWith("mlxcap_process_rss_bytes ")).findFirst().orElseThrow();
      assertTrue(Double.parseDouble(line.split(" ")[1]) > 10e6, "read now, not the last sample (none was taken): " + line);
    }
  }

  @Test
  void nonStreamingClientThatLeaves_isCancelled_andItsWorkerFreed() throws Exception {
    Path trace = dir.resolve("t.jsonl");
    try (TestServer s = TestServer.start(trace)) {
      String json = "{\"model\":\"command-r-plus:104b\",\"prompt\":\"x\",\"max_tokens\":4096}";
      try (Socket socket = new Socket("127.0.0.1", s.port)) {
        socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + json.length() + "\r\n\r\n" + json).getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        for (int i = 0; i < 2000 && TestServer.json(s.get("/admin/cache")).at("/models/0/pins").asInt() == 0; i++) {
          Thread.sleep(5);
        }
      }
      int busy = 1;
      for (int i = 0; i < 600 && busy > 0; i++) {
        Thread.sleep(50);
        busy = TestServer.json(s.get("/admin/cache")).get("busy_workers").asInt();
      }
      assertEquals(0, busy, "the worker stopped generating for a client that left");
    }
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      TraceEvent.RequestDone done = reader.events().filter(e -> e instanceof TraceEvent.RequestDone)
          .map(e -> (TraceEvent.RequestDone) e).findFirst().orElseThrow();
      assertEquals(TraceEvent.Status.CANCELLED, done.status());
      assertFalse(done.outputTokens() == 4096, "it did not generate all 4096 tokens");
    }
  }

  @Test
  void queuedRequestsHoldNoThread_aQueueDeeperThanJettysPool_andAnUnboundedQueueSetting() throws Exception {
    int queued = ApiServer.HTTP_THREADS * 2;
    try (TestServer s = TestServer.start(null, "MLX_MAX_CONCURRENT_REQUESTS", "1", "MLX_MAX_QUEUE", "2147483647")) {
      HttpRequest longOne = s.request("/api/generate").POST(HttpRequest.BodyPublishers.ofString(
          "{\"model\":\"command-r-plus:104b\",\"prompt\":\"x\",\"options\":{\"num_predict\":4096}}")).build();
      HttpResponse<InputStream> busy = s.client.send(longOne, HttpResponse.BodyHandlers.ofInputStream());
      busy.body().readNBytes(50);
      List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> waiting = new java.util.ArrayList<>();
      for (int i = 0; i < queued; i++) {
        waiting.add(s.client.sendAsync(s.request("/v1/completions").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      int inQueue = 0;
      for (int i = 0; i < 2000 && inQueue < queued; i++) {
        Thread.sleep(5);
        inQueue = TestServer.json(s.get("/admin/cache")).get("queued").asInt();
      }
      assertEquals(queued, inQueue, "more requests wait than Jetty has threads, and admin still answers");
      busy.body().close();
      for (java.util.concurrent.CompletableFuture<HttpResponse<String>> r : waiting) {
        assertEquals(200, r.get(120, java.util.concurrent.TimeUnit.SECONDS).statusCode());
      }
    }
  }
}
