package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.server.TestModels;
import io.mlxcap.server.TestServer;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input, faults and security, each answered with the right status and a JSON error. */
final class FaultsTest {

  private static String error(HttpResponse<String> r) {
    JsonNode body = TestServer.json(r);
    return body.get("error").isTextual() ? body.get("error").asText() : body.at("/error/message").asText();
  }

  @Test
  void badRequests_400_404_413_withJsonErrors() {
    try (TestServer s = TestServer.start(null)) {
      HttpResponse<String> malformed = s.post("/v1/chat/completions", "{\"model\": \"fast\", ");
      assertEquals(400, malformed.statusCode());
      assertTrue(error(malformed).startsWith("the request body is not valid JSON"), malformed.body());
      assertEquals("invalid_request_error", TestServer.json(malformed).at("/error/type").asText());

      HttpResponse<String> unknown = s.post("/v1/chat/completions", "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
      assertEquals(404, unknown.statusCode());
      assertEquals("model 'gpt-4' not found; known models: phi3.5:3.8b (fast), qwen2.5-coder:32b (default),"
          + " deepseek-r1-distill-llama:70b (reasoning), command-r-plus:104b", error(unknown));
      HttpResponse<String> ollamaUnknown = s.post("/api/generate", "{\"model\":\"gpt-4\",\"prompt\":\"x\"}");
      assertEquals(404, ollamaUnknown.statusCode());
      assertTrue(TestServer.json(ollamaUnknown).get("error").asText().startsWith("model 'gpt-4' not found"));

      HttpResponse<String> big = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"" + "x".repeat(70_000) + "\"}");
      assertEquals(413, big.statusCode());
      assertTrue(error(big).contains("the limit is 65536"), big.body());

      for (String bad : new String[] {"\"max_tokens\":0", "\"max_tokens\":-3", "\"max_tokens\":2.5", "\"max_tokens\":\"ten\"",
          "\"max_tokens\":100000", "\"temperature\":-1", "\"temperature\":\"hot\"", "\"temperature\":9"}) {
        HttpResponse<String> r = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\"," + bad + "}");
        assertEquals(400, r.statusCode(), bad);
        assertTrue(error(r).startsWith("'" + bad.substring(1, bad.indexOf('"', 1)) + "' must be"), error(r));
      }
      assertEquals(400, s.post("/api/chat", "{\"model\":\"fast\",\"messages\":\"hi\"}").statusCode());
      assertEquals(400, s.post("/v1/chat/completions", "[1,2]").statusCode());
      assertEquals(404, s.get("/v2/nothing").statusCode());
    }
  }

  @Test
  void cutShortWeights_503BeforeAnyLoad_noAbsolutePath_nextRequestLoads(@TempDir Path dir) throws Exception {
    Path models = copyModels(dir);
    Path weights = models.resolve("phi3.5_3.8b/model.safetensors");
    byte[] good = Files.readAllBytes(weights);
    Files.write(weights, java.util.Arrays.copyOf(good, 1000));
    try (TestServer s = new TestServer(models, null, null)) {
      HttpResponse<String> r = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":2}");
      assertEquals(503, r.statusCode(), r.body());
      assertTrue(error(r).startsWith("model phi3.5:3.8b cannot be loaded: phi3.5_3.8b/model.safetensors says its header is"),
          error(r));
      assertTrue(!r.body().contains(dir.toString()), "no absolute server path reaches the client: " + r.body());
      assertTrue(r.headers().firstValue("Retry-After").isPresent(), "503 says when to retry");
      assertEquals(0, TestServer.json(s.get("/admin/cache")).get("models").size(), "nothing left behind");
      assertTrue(!s.get("/metrics").body().contains("mlxcap_load_failures_total{"), "checked, never loaded");
      Files.write(weights, good);
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":2}").statusCode(),
          "the next request loads again");
    }
  }

  @Test
  void clientGoneMidStream_releasesItsPin(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("gone.jsonl");
    try (TestServer s = TestServer.start(trace)) {
      HttpRequest request = s.request("/v1/chat/completions").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"command-r-plus:104b\",\"stream\":true,\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}"))
          .build();
      HttpResponse<InputStream> r = s.client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      InputStream body = r.body();
      body.readNBytes(300);
      JsonNode busy = TestServer.json(s.get("/admin/cache"));
      assertEquals(1, busy.at("/models/0/pins").asInt(), busy.toString());
      body.close();
      int pins = 1;
      for (int i = 0; i < 100 && pins > 0; i++) {
        Thread.sleep(50);
        pins = TestServer.json(s.get("/admin/cache")).at("/models/0/pins").asInt();
      }
      assertEquals(0, pins, "the abandoned stream released its model");
    }
    try (io.mlxcap.trace.TraceReader reader = io.mlxcap.trace.TraceReader.open(trace, io.mlxcap.trace.TraceReader.Mode.STRICT)) {
      io.mlxcap.trace.TraceEvent.RequestDone done = reader.events()
          .filter(e -> e instanceof io.mlxcap.trace.TraceEvent.RequestDone)
          .map(e -> (io.mlxcap.trace.TraceEvent.RequestDone) e).findFirst().orElseThrow();
      assertEquals(io.mlxcap.trace.TraceEvent.Status.CANCELLED, done.status(),
          "the server noticed the client leave instead of generating all 4096 tokens");
    }
  }

  @Test
  void unload_busy409_idle200_notLoaded404_loadAccepted202() throws Exception {
    try (TestServer s = TestServer.start(null)) {
      assertEquals(404, s.post("/admin/models/fast/unload", "").statusCode());
      assertEquals(202, s.post("/admin/models/fast/load", "").statusCode());
      // The test holds the model the way a generation would.
      io.mlxcap.server.host.ModelHost.Lease busyLease = s.host.begin("fast", s.host.resolve("fast"), 1, 1,
          io.mlxcap.cache.ModelCache.KEEP_ALIVE_DEFAULT);
      HttpResponse<String> busy = s.post("/admin/models/fast/unload", "");
      assertEquals(409, busy.statusCode());
      assertEquals("phi3.5:3.8b is serving a request; unload it when it is idle", error(busy));
      busyLease.close();
      HttpResponse<String> idle = s.post("/admin/models/fast/unload", "");
      assertEquals(200, idle.statusCode(), idle.body());
      assertEquals("unloaded", TestServer.json(idle).get("status").asText());
    }
  }

  @Test
  void apiKey_401WithoutIt_healthStaysOpen() {
    try (TestServer s = new TestServer(TestModels.dir(), null, "s3cret")) {
      HttpResponse<String> without = s.send(HttpRequest.newBuilder(s.uri("/v1/models")).GET().build());
      assertEquals(401, without.statusCode());
      assertEquals("authentication_error", TestServer.json(without).at("/error/type").asText());
      HttpResponse<String> wrong = s.send(HttpRequest.newBuilder(s.uri("/admin/cache")).header("Authorization", "Bearer nope").GET().build());
      assertEquals(401, wrong.statusCode());
      assertEquals(200, s.get("/v1/models").statusCode(), "with the key");
      assertEquals(200, s.send(HttpRequest.newBuilder(s.uri("/health")).GET().build()).statusCode());
    }
  }

  @Test
  void modelNames_neverReachOutsideTheModelsFolder() {
    try (TestServer s = TestServer.start(null)) {
      for (String name : new String[] {"../phi3.5_3.8b", "/etc/passwd", "..", "../../../etc", "phi3.5_3.8b/../../x"}) {
        String json = "{\"model\":" + TestServer.JSON.valueToTree(name) + ",\"prompt\":\"x\"}";
        assertEquals(404, s.post("/v1/completions", json).statusCode(), name);
      }
      assertEquals(404, s.post("/admin/models/..%2F..%2Fetc/load", "").statusCode());
    }
  }

  @Test
  void bindsLoopbackByDefault() {
    try (TestServer s = TestServer.start(null)) {
      assertEquals("127.0.0.1", s.uri("/").getHost());
      assertEquals(200, s.get("/health").statusCode());
    }
  }

  /** A models folder holding only fast, copied, so a test may break its files. */
  static Path copyModels(Path dir) throws Exception {
    Path target = dir.resolve("models");
    Path fast = target.resolve("phi3.5_3.8b");
    Files.createDirectories(fast);
    for (String file : new String[] {"config.json", "model.safetensors"}) {
      Files.copy(TestModels.dir().resolve("phi3.5_3.8b").resolve(file), fast.resolve(file));
    }
    com.fasterxml.jackson.databind.node.ObjectNode root = TestServer.JSON.createObjectNode();
    root.set("models", io.mlxcap.model.ModelTable.of(java.util.List.of(TestModels.table().resolve("fast"))).toJsonArray());
    Files.writeString(target.resolve("models.json"), root.toString());
    return target;
  }
}
