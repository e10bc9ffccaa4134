package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.server.TestServer;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The settings at work on a live server: the queue limit and the cleanup tick with an idle TTL. */
final class LifecycleTest {

  @Test
  void queueFull_503() throws Exception {
    try (TestServer s = TestServer.start(null, "MLX_MAX_CONCURRENT_REQUESTS", "1", "MLX_MAX_QUEUE", "0")) {
      HttpRequest longOne = s.request("/api/generate").POST(HttpRequest.BodyPublishers.ofString(
          "{\"model\":\"fast\",\"prompt\":\"x\",\"options\":{\"num_predict\":4096}}")).build();
      HttpResponse<InputStream> busy = s.client.send(longOne, HttpResponse.BodyHandlers.ofInputStream());
      busy.body().readNBytes(100);
      HttpResponse<String> refused = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}");
      assertEquals(503, refused.statusCode());
      assertEquals("the server is busy: 0 requests already wait (MLX_MAX_QUEUE); try again later",
          TestServer.json(refused).at("/error/message").asText());
      busy.body().close();
      assertTrue(s.get("/metrics").body().contains("mlxcap_requests_total{status=\"rejected\"} 1.0"));
    }
  }

  @Test
  void idleTtl_psShowsTheExpiry_andTheTickUnloads() throws Exception {
    try (TestServer s = TestServer.start(null, "MLX_CACHE_CLEANUP_INTERVAL_SEC", "1", "MLX_MODEL_IDLE_TTL_SEC", "2")) {
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}").statusCode());
      JsonNode ps = TestServer.json(s.get("/api/ps"));
      Instant expires = Instant.parse(ps.at("/models/0/expires_at").asText());
      assertTrue(expires.isAfter(Instant.now()) && expires.isBefore(Instant.now().plusSeconds(3)), expires.toString());
      int loaded = 1;
      for (int i = 0; i < 60 && loaded > 0; i++) {
        Thread.sleep(100);
        loaded = TestServer.json(s.get("/api/ps")).get("models").size();
      }
      assertEquals(0, loaded, "unloaded by the cleanup tick after 2 s idle");
      assertTrue(s.get("/metrics").body().contains("mlxcap_evictions_total{model=\"phi3.5:3.8b\",reason=\"idle_ttl\"} 1.0"));
    }
  }
}
