package io.mlxcap.drive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.mlxcap.InvalidInputException;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * drive's contract on what a server does to it: open loop against a slow server, the request it
 * sends, errors by status, and the three ways to fail (unreachable, a model it lacks, dying midway).
 * The server here is the JDK's, answering like an OpenAI one; the real server is driven in the
 * server module's LoopTest and by scripts/close-the-loop.sh.
 */
final class DriverTest {
  @TempDir Path dir;
  private HttpServer server;
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private final Map<String, Long> arrivals = new ConcurrentHashMap<>();

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  /** An OpenAI-like server: /v1/models lists fast; /v1/completions answers after {@code delayMs}, or 503 for "busy". */
  private URI serve(long delayMs) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/models", x -> reply(x, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"fast\"},{\"id\":\"busy\"}]}"));
    server.createContext("/v1/completions", x -> {
      String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      bodies.add(body);
      arrivals.put(body, System.nanoTime());
      if (body.contains("\"busy\"")) {
        reply(x, 503, "{\"error\":{\"message\":\"busy\"}}");
        return;
      }
      try {
        Thread.sleep(delayMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      reply(x, 200, "data: {\"choices\":[{\"text\":\"ab\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}\n\ndata: [DONE]\n\n");
    });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static void reply(com.sun.net.httpserver.HttpExchange x, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }

  private Path trace(String... lines) throws IOException {
    Path file = dir.resolve("t.jsonl");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private static Driver.Options options(URI base, Path out) {
    return new Driver.Options(base, Driver.Api.OPENAI, 1, 0, null, 1, out);
  }

  @Test
  void openLoop_sendsOnScheduleWhileEarlierOnesStillRun_andCountsErrorsByStatus() throws Exception {
    URI base = serve(2000);
    Path trace = trace(
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\",\"prompt_tokens\":5,\"max_tokens\":2}",
        "{\"type\":\"request\",\"t_ms\":100,\"model\":\"fast\",\"prompt_tokens\":7,\"max_tokens\":2}",
        "{\"type\":\"request\",\"t_ms\":200,\"model\":\"busy\",\"prompt_tokens\":3,\"max_tokens\":2}");
    Driver driver = new Driver(options(base, dir.resolve("client.jsonl")));
    List<TraceEvent.Request> requests = driver.requests(trace);
    driver.check(requests);
    Driver.Summary s = driver.run(requests, i -> { });
    assertEquals(3, s.sent());
    assertEquals(2, s.ok());
    assertEquals(Map.of("503", 1L), s.errors());
    List<Long> sentAt = bodies.stream().map(arrivals::get).sorted().toList();
    long gap = sentAt.get(1) - sentAt.get(0);
    assertTrue(gap > 50_000_000L && gap < 1_500_000_000L,
        "the second was sent about 100 ms after the first, not after its 2 s answer: " + gap);
    assertTrue(bodies.stream().anyMatch(b -> b.contains("\"prompt\":\"the qui\"") && b.contains("\"max_tokens\":2")
        && b.contains("\"stream\":true")), bodies.toString());
    assertTrue(s.latencies()[0] >= 2_000_000_000L, "latency counts the server's time");
    try (TraceReader reader = TraceReader.open(dir.resolve("client.jsonl"), TraceReader.Mode.STRICT)) {
      List<TraceEvent> events = reader.events().collect(Collectors.toList());
      assertEquals(3, events.stream().filter(e -> e instanceof TraceEvent.Request).count());
      assertEquals(List.of(TraceEvent.Status.OK, TraceEvent.Status.OK, TraceEvent.Status.REJECTED), events.stream()
          .filter(e -> e instanceof TraceEvent.RequestDone).map(e -> (TraceEvent.RequestDone) e)
          .sorted(java.util.Comparator.comparing(TraceEvent.RequestDone::id)).map(TraceEvent.RequestDone::status).toList());
    }
  }

  @Test
  void unreachable_badUrl_missingModel_areOneSentenceEach() throws Exception {
    Path trace = trace("{\"type\":\"request\",\"t_ms\":0,\"model\":\"slow\"}");
    assertEquals("--url 'ftp://x' is not an http:// or https:// URL with a host",
        assertThrows(InvalidInputException.class, () -> new Driver(options(URI.create("ftp://x"), null))).getMessage());
    Driver down = new Driver(options(URI.create("http://127.0.0.1:9"), null));
    assertEquals("cannot reach http://127.0.0.1:9: connection refused; is the server running?",
        assertThrows(InvalidInputException.class, () -> down.check(down.requests(trace))).getMessage());
    URI base = serve(0);
    Driver driver = new Driver(options(base, null));
    assertEquals("the server has no model 'slow' (the trace asks for it at t_ms 0); it has: fast, busy",
        assertThrows(InvalidInputException.class, () -> driver.check(driver.requests(trace))).getMessage());
  }

  @Test
  void aHugePromptOrCharsPerToken_isOneSentence_notGigabytesOfText() throws Exception {
    Path trace = trace("{\"type\":\"request\",\"t_ms\":5,\"model\":\"fast\",\"prompt_tokens\":9000000000}");
    Driver driver = new Driver(options(URI.create("http://127.0.0.1:9"), null));
    assertEquals("the request at t_ms 5 asks for a prompt of 9000000000 tokens, over the 8388608 characters drive writes",
        assertThrows(InvalidInputException.class, () -> driver.requests(trace)).getMessage());
    assertEquals("--chars-per-token must be from 1 to 16, was 1000000",
        assertThrows(InvalidInputException.class, () -> new Driver(new Driver.Options(URI.create("http://x"), Driver.Api.OPENAI,
            1, 0, null, 1_000_000, null))).getMessage());
  }

  @Test
  void serverDyingMidway_stopsSending_andSaysSo() throws Exception {
    URI base = serve(0);
    Path trace = trace(
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}",
        "{\"type\":\"request\",\"t_ms\":300,\"model\":\"fast\"}",
        "{\"type\":\"request\",\"t_ms\":600,\"model\":\"fast\"}",
        "{\"type\":\"request\",\"t_ms\":5000,\"model\":\"fast\"}");
    Driver driver = new Driver(options(base, null));
    List<TraceEvent.Request> requests = driver.requests(trace);
    driver.check(requests);
    Thread killer = new Thread(() -> {
      try {
        Thread.sleep(150);
      } catch (InterruptedException e) {
        return;
      }
      server.stop(0);
    });
    killer.start();
    Driver.Summary s = driver.run(requests, i -> { });
    assertTrue(s.serverDown());
    assertTrue(s.sent() < 4, "the request due at 5 s was not sent: " + s.sent());
    assertEquals(1, s.ok());
    assertTrue(Driver.describe(s).contains("server        stopped answering midway: the requests after that were not sent"));
  }
}
