package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.server.TestModels;
import io.mlxcap.server.TestServer;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.time.FakeTicker;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The settings at work on a live server: the queue limit and the cleanup tick with an idle TTL. The
 * test holds the one worker itself and runs the tick on a fake clock, so nothing depends on how fast
 * this machine generates or on the real clock.
 */
final class LifecycleTest {

  @Test
  void queueFull_503() {
    try (TestServer s = TestServer.start(null, "MLX_MAX_CONCURRENT_REQUESTS", "1", "MLX_MAX_QUEUE", "0")) {
      ModelHost.Lease busy = s.host.begin("fast", s.host.resolve("fast"), 1, 1, ModelCache.KEEP_ALIVE_DEFAULT);
      HttpResponse<String> refused = s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}");
      assertEquals(503, refused.statusCode());
      assertEquals("the server is busy: 0 requests already wait (MLX_MAX_QUEUE); try again later",
          TestServer.json(refused).at("/error/message").asText());
      busy.close();
      assertTrue(s.get("/metrics").body().contains("mlxcap_requests_total{status=\"rejected\"} 1.0"));
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}").statusCode(),
          "the worker is free again");
    }
  }

  @Test
  void idleTtl_psShowsTheExpiry_andTheTickUnloads() {
    FakeTicker ticker = new FakeTicker();
    try (TestServer s = new TestServer(ticker, TestModels.dir(), null, null, "MLX_CACHE_CLEANUP_INTERVAL_SEC", "3600",
        "MLX_MODEL_IDLE_TTL_SEC", "2")) {
      assertEquals(200, s.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"x\",\"max_tokens\":1}").statusCode());
      JsonNode ps = TestServer.json(s.get("/api/ps"));
      Instant expires = Instant.parse(ps.at("/models/0/expires_at").asText());
      assertTrue(expires.isAfter(Instant.now().plusMillis(1500)) && expires.isBefore(Instant.now().plusSeconds(3)), expires.toString());
      ticker.advance(Duration.ofMillis(1999));
      s.host.tick();
      assertEquals(1, TestServer.json(s.get("/api/ps")).get("models").size(), "not yet idle for 2 s");
      ticker.advance(Duration.ofMillis(1));
      s.host.tick();
      assertEquals(0, TestServer.json(s.get("/api/ps")).get("models").size(), "unloaded by the tick after 2 s idle");
      assertTrue(s.get("/metrics").body().contains("mlxcap_evictions_total{model=\"phi3.5:3.8b\",reason=\"idle_ttl\"} 1.0"));
    }
  }
}
