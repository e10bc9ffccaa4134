package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mlxcap.server.TestServer;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 16 clients × 20 requests over three models with a cap of 2: no errors, no duplicate loads, pins back to 0, every request traced once. */
final class ConcurrencyTest {
  private static final String[] MODELS = {"fast", "default", "reasoning"};

  @Test
  void sixteenClients_twentyRequestsEach_threeModels_capTwo(@TempDir Path dir) throws Exception {
    Path tracePath = dir.resolve("concurrent.jsonl");
    int clients = 16;
    int perClient = 20;
    long loadsReported;
    try (TestServer s = TestServer.start(tracePath, "MLX_MAX_CACHED_MODELS", "2", "MLX_MAX_CONCURRENT_REQUESTS", "4")) {
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      List<Future<List<Integer>>> results = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        results.add(pool.submit(() -> {
          List<Integer> codes = new ArrayList<>();
          for (int i = 0; i < perClient; i++) {
            String model = MODELS[(client * 7 + i * (client % 3 + 1)) % MODELS.length];
            HttpResponse<String> r = i % 2 == 0
                ? s.post("/v1/chat/completions", "{\"model\":\"" + model + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"c" + client + "\"}]}")
                : s.post("/api/generate", "{\"model\":\"" + model + "\",\"prompt\":\"p\",\"stream\":false,\"options\":{\"num_predict\":2}}");
            codes.add(r.statusCode());
          }
          return codes;
        }));
      }
      for (Future<List<Integer>> f : results) {
        assertEquals(List.of(200), f.get().stream().distinct().toList(), "no errors");
      }
      pool.shutdown();
      JsonNode cache = TestServer.json(s.get("/admin/cache"));
      for (JsonNode m : cache.get("models")) {
        assertEquals(0, m.get("pins").asInt(), cache.toString());
      }
      assertTrue(cache.get("models").size() <= 2, "the cap held: " + cache);
      loadsReported = s.get("/metrics").body().lines().filter(l -> l.startsWith("mlxcap_loads_total{"))
          .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    List<TraceEvent> events;
    try (TraceReader reader = TraceReader.open(tracePath, TraceReader.Mode.STRICT)) {
      events = reader.events().collect(Collectors.toList());
      assertTrue(reader.report().ended());
    }
    Set<String> requested = new HashSet<>();
    Map<String, TraceEvent.Status> done = new HashMap<>();
    Set<String> loading = new HashSet<>();
    long loads = 0;
    for (TraceEvent e : events) {
      if (e instanceof TraceEvent.Request r) {
        assertTrue(requested.add(r.id()), "request " + r.id() + " traced twice");
      } else if (e instanceof TraceEvent.RequestDone d) {
        assertFalse(done.containsKey(d.id()), "request " + d.id() + " finished twice");
        done.put(d.id(), d.status());
      } else if (e instanceof TraceEvent.LoadStart l) {
        assertTrue(loading.add(l.model()), "a second load of " + l.model() + " while one was in progress");
      } else if (e instanceof TraceEvent.Load l) {
        assertTrue(loading.remove(l.model()));
        loads++;
      }
    }
    assertEquals(clients * perClient, requested.size());
    assertEquals(requested, done.keySet());
    assertEquals(Set.of(TraceEvent.Status.OK), Set.copyOf(done.values()));
    assertEquals(loadsReported, loads, "metrics and trace agree");
    long coldRequests = events.stream().filter(e -> e instanceof TraceEvent.RequestDone d && d.loadWaitNanos() > 0).count();
    assertTrue(loads <= coldRequests, "every load served at least one waiting request: " + loads + " vs " + coldRequests);
  }
}
