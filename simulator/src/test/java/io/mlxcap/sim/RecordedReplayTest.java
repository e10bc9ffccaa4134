package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.CacheEvent;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The project's central claim on a trace the live server recorded (traces/samples/recorded-cap2.jsonl:
 * 60 requests over four models, cap 2, one worker): replayed through the simulator under the trace's
 * own settings and model table, the cache core makes the same loads and evictions, in the same order.
 */
final class RecordedReplayTest {
  private static final Path TRACE =
      Path.of("").toAbsolutePath().getParent().resolve("traces/samples/recorded-cap2.jsonl");

  @Test
  void replay_makesTheServersLoadsAndEvictions_inOrder() {
    List<String> recorded = new ArrayList<>();
    TraceHeader header;
    try (TraceReader reader = TraceReader.open(TRACE, TraceReader.Mode.STRICT)) {
      header = reader.header();
      for (TraceEvent e = reader.next(); e != null; e = reader.next()) {
        if (e instanceof TraceEvent.LoadStart s) {
          recorded.add("load " + s.model() + " " + s.cause().wireName());
        } else if (e instanceof TraceEvent.Evict v) {
          recorded.add("evict " + v.model() + " " + v.reason().wireName());
        }
      }
    }
    ModelTable table = header.models().orElseThrow();
    Settings settings = Settings.fromEnv(header.settings(), table);
    List<String> replayed = new ArrayList<>();
    Simulation simulation = new Simulation(settings, table, HostProfile.DEFAULT, SizeRange.Estimate.EXPECTED, Long.MAX_VALUE)
        .onDecision((time, event) -> {
          if (event instanceof CacheEvent.LoadStarted s) {
            replayed.add("load " + s.model() + " " + s.cause().wireName());
          } else if (event instanceof CacheEvent.Evicted v) {
            replayed.add("evict " + v.model() + " " + v.reason().wireName());
          }
        });
    SimResult result;
    try (TraceReader reader = TraceReader.open(TRACE, TraceReader.Mode.STRICT)) {
      result = simulation.run(RequestSource.of(reader));
    }
    assertEquals(60, result.requests());
    assertTrue(recorded.size() > 40, "a trace with plenty of loads and evictions: " + recorded.size());
    assertEquals(recorded, replayed);
  }
}
