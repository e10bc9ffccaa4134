package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.server.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every endpoint's answer, against a real server on a real port. */
final class ApiTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(null, "MLX_MAX_CACHED_MODELS", "2");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void openAiChat_plain() {
    HttpResponse<String> r = server.post("/v1/chat/completions",
        "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":7}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = TestServer.json(r);
    assertEquals("chat.completion", body.get("object").asText());
    assertEquals("fast", body.get("model").asText());
    assertEquals("assistant", body.at("/choices/0/message/role").asText());
    assertEquals(7, body.at("/choices/0/message/content").asText().length());
    assertEquals("length", body.at("/choices/0/finish_reason").asText());
    assertEquals(7, body.at("/usage/completion_tokens").asInt());
    assertEquals("user: hi\nassistant: ".length(), body.at("/usage/prompt_tokens").asInt());
    assertEquals(body.at("/usage/prompt_tokens").asInt() + 7, body.at("/usage/total_tokens").asInt());
  }

  @Test
  void openAiChat_stream_endsWithDone() {
    HttpResponse<String> r = server.post("/v1/chat/completions",
        "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5,\"stream\":true}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    List<String> events = new ArrayList<>();
    for (String block : r.body().split("\n\n")) {
      assertTrue(block.startsWith("data: "), block);
      events.add(block.substring(6));
    }
    assertEquals("[DONE]", events.get(events.size() - 1));
    JsonNode first = json(events.get(0));
    assertEquals("chat.completion.chunk", first.get("object").asText());
    assertEquals("assistant", first.at("/choices/0/delta/role").asText());
    StringBuilder text = new StringBuilder();
    for (String e : events.subList(1, events.size() - 2)) {
      text.append(json(e).at("/choices/0/delta/content").asText());
    }
    assertEquals(5, text.length());
    JsonNode last = json(events.get(events.size() - 2));
    assertEquals("length", last.at("/choices/0/finish_reason").asText());
    assertEquals(5, last.at("/usage/completion_tokens").asInt());
  }

  @Test
  void openAiCompletions_plainAndStream() {
    JsonNode plain = TestServer.json(server.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"abc\"}"));
    assertEquals("text_completion", plain.get("object").asText());
    assertEquals(16, plain.at("/choices/0/text").asText().length(), "OpenAI's default of 16 tokens");
    HttpResponse<String> stream = server.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"abc\",\"max_tokens\":3,\"stream\":true}");
    assertTrue(stream.body().endsWith("data: [DONE]\n\n"), stream.body());
  }

  @Test
  void plainAnswers_sayHowLongTheGenerationTook_inServerTiming() {
    long start = System.nanoTime();
    HttpResponse<String> chat = server.post("/v1/chat/completions",
        "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":20}");
    double waitedMs = (System.nanoTime() - start) / 1e6;
    double generateMs = generateMs(chat);
    assertTrue(generateMs > 0 && generateMs < waitedMs, generateMs + " ms of " + waitedMs);
    HttpResponse<String> ollama = server.post("/api/chat",
        "{\"model\":\"fast\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":3}}");
    assertEquals(TestServer.json(ollama).get("eval_duration").asLong() / 1e6, generateMs(ollama), 0.0005,
        "Ollama's eval_duration and the header are the same generation's time");
    assertTrue(server.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"abc\",\"max_tokens\":3,\"stream\":true}")
        .headers().firstValue("Server-Timing").isEmpty(), "a stream's headers go out before it generates");
  }

  @Test
  void serverTiming_isMillisecondsWithThreeDecimals() {
    assertEquals("generate;dur=0.000", ApiServer.serverTiming(0));
    assertEquals("generate;dur=0.001", ApiServer.serverTiming(500));
    assertEquals("generate;dur=5.042", ApiServer.serverTiming(5_041_600));
    assertEquals("generate;dur=1234.500", ApiServer.serverTiming(1_234_500_000));
  }

  private static double generateMs(HttpResponse<String> r) {
    String value = r.headers().firstValue("Server-Timing").orElseThrow(() -> new AssertionError("no Server-Timing"));
    assertTrue(value.matches("generate;dur=\\d+\\.\\d{3}"), value);
    return Double.parseDouble(value.substring("generate;dur=".length()));
  }

  @Test
  void openAiModels_listsNamesAndAliases() {
    JsonNode body = TestServer.json(server.get("/v1/models"));
    assertEquals("list", body.get("object").asText());
    List<String> ids = new ArrayList<>();
    body.get("data").forEach(m -> ids.add(m.get("id").asText()));
    assertEquals(List.of("phi3.5:3.8b", "fast", "qwen2.5-coder:32b", "default", "deepseek-r1-distill-llama:70b",
        "reasoning", "command-r-plus:104b"), ids);
  }

  @Test
  void ollamaChat_streamsNdjson_andPlain() {
    HttpResponse<String> r = server.post("/api/chat",
        "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":4}}");
    assertEquals(200, r.statusCode(), r.body());
    String[] lines = r.body().split("\n");
    assertEquals(5, lines.length, "four pieces and a final line");
    assertFalse(json(lines[0]).get("done").asBoolean());
    JsonNode last = json(lines[4]);
    assertTrue(last.get("done").asBoolean());
    assertEquals(4, last.get("eval_count").asInt());
    JsonNode plain = TestServer.json(server.post("/api/chat",
        "{\"model\":\"fast\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":3}}"));
    assertEquals(3, plain.at("/message/content").asText().length());
    assertTrue(plain.get("done").asBoolean());
  }

  @Test
  void ollamaGenerate_tags_ps() {
    JsonNode g = TestServer.json(server.post("/api/generate", "{\"model\":\"fast\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}"));
    assertEquals(2, g.get("response").asText().length());
    JsonNode tags = TestServer.json(server.get("/api/tags"));
    assertEquals(4, tags.get("models").size());
    JsonNode ps = TestServer.json(server.get("/api/ps"));
    List<String> loaded = new ArrayList<>();
    ps.get("models").forEach(m -> loaded.add(m.get("name").asText()));
    assertTrue(loaded.contains("phi3.5:3.8b"), ps.toString());
    assertTrue(ps.at("/models/0/size").asLong() > 10_000_000);
  }

  @Test
  void health_metrics_adminCache() {
    assertEquals("ok", TestServer.json(server.get("/health")).get("status").asText());
    server.post("/v1/completions", "{\"model\":\"fast\",\"prompt\":\"abc\",\"max_tokens\":1}");
    String metrics = server.get("/metrics").body();
    assertTrue(metrics.contains("mlxcap_loads_total{cause=\"request\",model=\"phi3.5:3.8b\"}"), metrics);
    assertTrue(metrics.contains("mlxcap_request_latency_seconds_bucket"), metrics);
    assertTrue(metrics.contains("mlxcap_process_rss_bytes"), metrics);
    JsonNode cache = TestServer.json(server.get("/admin/cache"));
    assertEquals("2", cache.at("/settings/MLX_MAX_CACHED_MODELS").asText());
    assertTrue(cache.get("resident_bytes").asLong() > 0);
  }

  private static JsonNode json(String text) {
    try {
      return TestServer.JSON.readTree(text);
    } catch (java.io.IOException e) {
      throw new AssertionError(text, e);
    }
  }
}
