package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The seed's story, replayed on the bundled seed-scenario day on the seed's 128 GB machine. */
final class SeedStoryTest {
  private static final Path TRACE = Path.of("").toAbsolutePath().getParent().resolve("traces/samples/seed-scenario.jsonl");
  private static final ModelTable TABLE = ModelTable.defaults();
  private static final HostProfile HOST = HostProfile.DEFAULT;
  private static final double GB = 1e9;
  private static RequestSource.InMemory day;

  @BeforeAll
  static void readTrace() {
    try (TraceReader reader = TraceReader.open(TRACE, TraceReader.Mode.STRICT)) {
      day = RequestSource.InMemory.of(RequestSource.of(reader));
    }
  }

  private static Prediction predict(RequestSource.InMemory trace, Map<String, String> env) {
    return Prediction.of(Settings.fromEnv(env, TABLE), TABLE, HOST, Prediction.defaultRamLine(HOST), trace::replay);
  }

  private static final Map<String, String> BEFORE_THE_FIX = Map.of("MLX_MAX_CACHED_MODELS", "off",
      "MLX_CACHE_CLEANUP_INTERVAL_SEC", "0", "MLX_PRELOAD_MODELS", "default,fast", "MLX_MEMORY_PRESSURE_THRESHOLD", "0.95");

  @Test
  void beforeTheFix_theProcessSitsIn60To90GbAndPeaksHigher() {
    Prediction old = predict(day, BEFORE_THE_FIX);
    SimResult e = old.expected();
    assertTrue(e.peakRssBytes() >= 60 * GB, "peak " + e.peakRssBytes());
    assertTrue(e.meanRssBytes() >= 60 * GB && e.meanRssBytes() <= 90 * GB, "mean " + e.meanRssBytes());
    assertEquals(2, e.loads().get("preload"));
    assertEquals(0, e.evictions().get("max_models") + e.evictions().get("cleanup"), "nothing but the 95 % rule unloads");

    // Up to the first request for the 104b: 32b + 3.8b preloaded, the 70b on demand, never unloaded.
    RequestSource.InMemory untilHuge = new RequestSource.InMemory();
    RequestSource source = day.replay();
    RequestSource.Arrival a = new RequestSource.Arrival();
    while (source.next(a) && !a.model.equals("command-r-plus:104b")) {
      untilHuge.add(a);
    }
    SimResult before104b = predict(untilHuge, BEFORE_THE_FIX).expected();
    assertTrue(before104b.peakRssBytes() >= 60 * GB && before104b.peakRssBytes() <= 90 * GB,
        "the seed's 60–90 GB: " + before104b.peakRssBytes());
    assertEquals(0, before104b.totalEvictions(), "on a 128 GB host the 95 % line is never reached");
  }

  @Test
  void theFix_halvesTheMeanAtTheCostOfColdStarts_aByteBudgetAlsoCutsThePeak() {
    SimResult old = predict(day, BEFORE_THE_FIX).expected();
    SimResult fix = predict(day, Map.of()).expected();
    assertTrue(fix.meanRssBytes() < old.meanRssBytes() / 1.5, fix.meanRssBytes() + " vs " + old.meanRssBytes());
    assertTrue(fix.totalLoads() > 5 * old.totalLoads(), fix.totalLoads() + " vs " + old.totalLoads());
    assertTrue(fix.peakRssBytes() > 100 * GB, "two models can be the 70b and the 104b: " + fix.peakRssBytes());

    SimResult budget = predict(day, Map.of("MLX_MAX_CACHED_MODELS", "off", "MLX_MAX_CACHE_BYTES", "64GiB")).expected();
    assertTrue(budget.peakRssBytes() < 0.7 * fix.peakRssBytes(), budget.peakRssBytes() + " vs " + fix.peakRssBytes());
    assertTrue(Math.abs(budget.totalLoads() - fix.totalLoads()) <= fix.totalLoads() / 50,
        budget.totalLoads() + " vs " + fix.totalLoads());
  }

  @Test
  void sameInputs_sameReport_byteForByte() throws Exception {
    String first = render(predict(day, Map.of("MLX_MODEL_IDLE_TTL_SEC", "900")));
    String second = render(predict(day, Map.of("MLX_MODEL_IDLE_TTL_SEC", "900")));
    assertEquals(first, second);
  }

  private static String render(Prediction p) throws Exception {
    SimulationReport report = new SimulationReport("day", p);
    StringWriter text = new StringWriter();
    report.printSummary(new PrintWriter(text));
    return text + new ObjectMapper().writeValueAsString(report.json());
  }
}
