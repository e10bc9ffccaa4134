package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trace read once into memory (what sweeps and reports use) predicts exactly what the streaming
 * reads of {@code simulate} predict, recorded service times included; and one pass stands for three
 * only when every model size is exact.
 */
final class OneReadTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @TempDir Path dir;

  /** Everything a prediction says that a report prints, as one comparable string. */
  static String figures(Prediction p) {
    return List.of(p.low(), p.expected(), p.high()).stream().map(r -> r.peakRssBytes() + "/" + Math.round(r.meanRssBytes())
        + "/" + r.coldStarts() + "/" + r.hits() + "/" + r.loads() + "/" + r.evictions() + "/" + r.coldWait().quantile(0.95)
        + "/" + r.latency().quantile(0.99) + "/" + r.peakModels() + "/" + r.timeline())
        .collect(Collectors.joining(" | "));
  }

  private static Prediction streaming(Path trace, Settings settings, ModelTable table) {
    Map<String, Long> recorded;
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      recorded = RequestSource.recordedServiceTimes(reader);
    }
    return Prediction.of(settings, table, HostProfile.DEFAULT, 100_000_000_000L,
        () -> RequestSource.of(TraceReader.open(trace, TraceReader.Mode.STRICT), recorded));
  }

  @Test
  void recording_oneReadEqualsTheStreamingReads() {
    Path trace = REPO.resolve("traces/samples/recorded-cap2.jsonl");
    RequestSource.InMemory memory = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT);
    assertEquals(60, memory.recordedServiceTimes(), "every request got its recorded service time");
    ModelTable table = memory.header().models().orElseThrow();
    Settings settings = Settings.fromEnv(memory.header().settings(), table);
    Prediction once = Prediction.of(settings, table, HostProfile.DEFAULT, 100_000_000_000L, memory);
    assertEquals(figures(streaming(trace, settings, table)), figures(once));
  }

  @Test
  void recording_readAheadEqualsTheStreamingReads() {
    Path trace = REPO.resolve("traces/samples/recorded-cap2.jsonl");
    RequestSource.InMemory memory = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT);
    ModelTable table = memory.header().models().orElseThrow();
    Settings settings = Settings.fromEnv(memory.header().settings(), table);
    Prediction.Read read = Prediction.read(settings, table, HostProfile.DEFAULT, 100_000_000_000L, trace,
        TraceReader.Mode.STRICT);
    assertEquals(60, read.recordedServiceTimes());
    assertEquals(figures(streaming(trace, settings, table)), figures(read.prediction()));
  }

  // The three passes of a ranged table run side by side on one read: each equals its own streaming pass.
  @Test
  void seedDay_rangedSizes_threePassesOnOneRead_equalToThreeReads() {
    Path trace = REPO.resolve("traces/samples/seed-scenario.jsonl");
    ModelTable table = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT).header().models().orElseThrow();
    Settings settings = Settings.defaults(table).with(Map.of("MLX_MAX_CACHED_MODELS", "3"), table);
    Prediction once = Prediction.read(settings, table, HostProfile.DEFAULT, 100_000_000_000L, trace,
        TraceReader.Mode.STRICT).prediction();
    assertNotSame(once.low(), once.high(), "ranged sizes: three passes");
    assertEquals(figures(streaming(trace, settings, table)), figures(once));
  }

  @Test
  void seedDay_rangedSizes_threePasses_equalToStreaming() {
    Path trace = REPO.resolve("traces/samples/seed-scenario.jsonl");
    RequestSource.InMemory memory = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT);
    ModelTable table = memory.header().models().orElseThrow();
    Settings settings = Settings.defaults(table).with(Map.of("MLX_MAX_CACHED_MODELS", "3"), table);
    Prediction once = Prediction.of(settings, table, HostProfile.DEFAULT, 100_000_000_000L, memory);
    assertNotSame(once.low(), once.high(), "ranged sizes: three passes");
    assertEquals(figures(streaming(trace, settings, table)), figures(once));
  }

  @Test
  void exactSizes_onePassStandsForThree_andEqualsThreeRealPasses() {
    Path trace = REPO.resolve("traces/samples/seed-scenario.jsonl");
    RequestSource.InMemory memory = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT);
    ModelTable exact = ModelTable.of(memory.header().models().orElseThrow().models().stream()
        .map(m -> new ModelSpec(m.name(), m.aliases(), SizeRange.exactly(m.size().expectedBytes()), m.performance()))
        .toList());
    Settings settings = Settings.defaults(exact);
    Prediction once = Prediction.of(settings, exact, HostProfile.DEFAULT, 100_000_000_000L, memory);
    assertSame(once.low(), once.high(), "one pass");
    SimResult[] three = new SimResult[3];
    for (SizeRange.Estimate e : SizeRange.Estimate.values()) {
      three[e.ordinal()] = new Simulation(settings, exact, HostProfile.DEFAULT, e, 100_000_000_000L).run(memory.replay());
    }
    assertEquals(figures(new Prediction(settings, exact, HostProfile.DEFAULT, three[0], three[1], three[2])), figures(once));
  }

  // More requests in flight than a one-pass read remembers: it reads the trace a second time, joining by id.
  @Test
  void outcomesAfterManyUnmatchedRequests_areStillJoined() throws Exception {
    int n = ReadAhead.WINDOW + 10;
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      text.append("{\"type\":\"request\",\"t_ms\":").append(i).append(",\"id\":\"r").append(i).append("\",\"model\":\"fast\"}\n");
    }
    text.append("{\"type\":\"request_done\",\"t_ms\":").append(n).append(",\"id\":\"r3\",\"status\":\"ok\",\"service_ms\":1234}\n");
    Path trace = Files.writeString(dir.resolve("t.jsonl"), text);
    RequestSource.InMemory memory = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT);
    assertEquals(n, memory.size());
    assertEquals(1, memory.recordedServiceTimes());
    RequestSource replay = memory.replay();
    RequestSource.Arrival a = new RequestSource.Arrival();
    for (int i = 0; i <= 3; i++) {
      replay.next(a);
    }
    assertEquals(1_234_000_000L, a.serviceNanos);
  }
}
