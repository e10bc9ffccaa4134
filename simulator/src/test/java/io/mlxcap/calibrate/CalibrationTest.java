package io.mlxcap.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.LoadSpread;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * calibrate on a recording made to order: loads that take 40 ms + bytes / 500 MB/s (one slowed by a
 * stall; the process's first two slowed by 300 and 150 ms of warm-up), an RSS of 150 MB + the resident
 * models + 3 MB per load so far, requests served at 1,000 prompt and 50 output tokens a second. The fit
 * must find those figures again, and say from how many observations.
 */
final class CalibrationTest {
  private static final long MB = 1_000_000L;
  @TempDir Path dir;

  static final ModelTable TABLE = ModelTable.of(List.of(
      new ModelSpec("small", List.of(), SizeRange.exactly(20 * MB)),
      new ModelSpec("medium", List.of(), SizeRange.exactly(100 * MB)),
      new ModelSpec("large", List.of(), SizeRange.exactly(200 * MB))));

  /** The order of the made recording's loads: one model resident at a time, each load evicts the one before. */
  static final String[] ORDER = {"small", "large", "small", "large", "small", "large", "large", "small", "small", "large"};

  private static long loadNanos(long bytes) {
    return 40_000_000L + bytes * 2; // 500 MB/s is 2 ns a byte
  }

  /** How much longer than the line the {@code i}-th load, of {@code model}, takes. */
  interface Extra {
    long nanos(int i, String model, long lineNanos);
  }

  /** The warm-up of the first two loads, and a 900 ms stall of the fifth. */
  static final Extra WARMUP_AND_STALL = (i, model, line) -> i == 0 ? 300_000_000L : i == 1 ? 150_000_000L : i == 4 ? 900_000_000L : 0;

  /** Writes the made-to-order recording, loads not slowed by the evictions made for them. */
  Path recording() {
    return recording(0);
  }

  /** The recording, each load taking {@code nanosPerEvictedByte} longer per byte evicted to make room for it. */
  Path recording(double nanosPerEvictedByte) {
    return recording(ORDER, nanosPerEvictedByte, WARMUP_AND_STALL);
  }

  /** A recording of loads in {@code order}, each taking the line, the eviction delay and {@code extra}. */
  Path recording(String[] order, double nanosPerEvictedByte, Extra extra) {
    return recording("made.jsonl", order, nanosPerEvictedByte, extra);
  }

  /** The same, written to {@code name}. */
  Path recording(String name, String[] order, double nanosPerEvictedByte, Extra extra) {
    Path file = dir.resolve(name);
    TraceHeader header = new TraceHeader(Optional.of("2026-12-01T00:00:00Z"), Optional.of("test"), 16L << 30, 2,
        Settings.defaults(TABLE).toEnv(), Optional.of(TABLE));
    try (TraceWriter w = TraceWriter.durable(file, header)) {
      long t = 0;
      long resident = 0;
      int loads = 0;
      String current = null;
      for (int i = 0; i < order.length; i++) {
        String model = order[i];
        long bytes = TABLE.resolve(model).size().expectedBytes();
        long evicted = 0;
        if (current != null) {
          evicted = TABLE.resolve(current).size().expectedBytes();
          w.write(new TraceEvent.Evict(t, current, evicted, EvictionReason.MAX_MODELS));
          resident = 0;
        }
        w.write(new TraceEvent.Request(t, "r" + i, model, 100 + 50 * i, 20 + 5 * (i % 3), TraceEvent.UNKNOWN, TraceEvent.UNKNOWN));
        w.write(new TraceEvent.LoadStart(t, model, LoadCause.REQUEST, bytes));
        // A sample half way through the load: the model is half there, nothing else held.
        w.write(new TraceEvent.Memory(t + loadNanos(bytes) / 2, 150 * MB + 3 * MB * loads + bytes / 2, 0, 16L << 30));
        long duration = loadNanos(bytes) + Math.round(evicted * nanosPerEvictedByte) + extra.nanos(i, model, loadNanos(bytes));
        t += duration;
        w.write(new TraceEvent.Load(t, model, LoadCause.REQUEST, bytes, duration));
        loads++;
        resident = bytes;
        current = model;
        w.write(new TraceEvent.Memory(t, 150 * MB + 3 * MB * loads + resident, 0, 16L << 30));
        long prompt = 100 + 50 * i;
        long output = 20 + 5 * (i % 3);
        long service = Math.round(1e9 * (prompt / 1000.0 + output / 50.0));
        t += service;
        w.write(new TraceEvent.RequestDone(t, "r" + i, TraceEvent.Status.OK, 0, duration, service, output, null));
        w.write(new TraceEvent.Memory(t + 1, 150 * MB + 3 * MB * loads + resident, 0, 16L << 30));
      }
      w.write(new TraceEvent.End(t + 2));
    }
    return file;
  }

  @Test
  void findsTheFiguresItWasMadeWith() {
    Calibration.Result r = Calibration.fit(recording());
    Profile p = r.profile();
    assertEquals(0.040, p.figures().get("load_overhead_s").value(), 0.002, "the stalled load does not pull the line");
    assertEquals(500e6, p.figures().get("load_bytes_per_s").value(), 5e6);
    assertEquals(8, p.figures().get("load_bytes_per_s").observations(), "the loads after the warm-up");
    assertEquals(150 * MB, p.figures().get("runtime_base_bytes").value(), 0.5 * MB);
    assertEquals(3 * MB, p.figures().get("growth_per_load_bytes").value(), 0.05 * MB);
    assertEquals(20, p.figures().get("growth_per_load_bytes").observations(), "the samples taken while no load ran");
    assertEquals(0, p.figures().get("load_transient").value(), 1e-9, "half a model half way through a load is no transient");
    assertEquals(10, p.figures().get("load_transient").observations());
    assertEquals(200 * MB, p.models().get("large").bytes().value(), 0);
    assertEquals(1000, p.models().get("small").prefillTokensPerSecond().value(), 1);
    assertEquals(50, p.models().get("small").decodeTokensPerSecond().value(), 0.1);
    assertEquals(5, p.models().get("large").decodeTokensPerSecond().observations());
    assertEquals(0, p.figures().get("load_s_per_evicted_byte").value(), 1e-13, "no delay was made");
    assertTrue(r.quality().get(0).startsWith("load time     40.0 ms + bytes / 500.0 MB/s + 0.0 ms per GB evicted for it,"
        + " from 8 loads (8 after evictions; Theil-Sen; after 2 warm-up loads)"), r.quality().get(0));
    assertEquals(16L << 30, p.host().ramBytes());
  }

  // Services made to order, three models loaded in turn three times: each one's first request after
  // its load takes 200 ms beyond its solo time (prompt / 1000 + output / 50 tokens per second); then
  // two alone at their solo time; then two pairs served side by side, each taking 1.5 times its solo
  // time (each other generation adds half).
  @Test
  void findsHowOverlappingServicesSlowEachOther_andTheColdExtra() {
    Path file = dir.resolve("shared.jsonl");
    TraceHeader header = new TraceHeader(Optional.of("2026-12-01T00:00:00Z"), Optional.of("test"), 16L << 30, 2,
        Settings.defaults(TABLE).toEnv(), Optional.of(TABLE));
    try (TraceWriter w = TraceWriter.durable(file, header)) {
      long t = 0;
      int id = 0;
      String previous = null;
      for (int turn = 0; turn < 9; turn++) {
        String model = List.of("small", "medium", "large").get(turn % 3);
        int round = turn / 3;
        long bytes = TABLE.resolve(model).size().expectedBytes();
        if (previous != null) {
          w.write(new TraceEvent.Evict(t, previous, TABLE.resolve(previous).size().expectedBytes(), EvictionReason.MAX_MODELS));
        }
        previous = model;
        w.write(new TraceEvent.Request(t, "r" + id, model, 200, 10, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN));
        w.write(new TraceEvent.LoadStart(t, model, LoadCause.REQUEST, bytes));
        t += loadNanos(bytes);
        w.write(new TraceEvent.Load(t, model, LoadCause.REQUEST, bytes, loadNanos(bytes)));
        w.write(new TraceEvent.Memory(t, 150 * MB + bytes, 0, 16L << 30));
        long service = Math.round(1e9 * (200 / 1000.0 + 10 / 50.0)) + 200_000_000L;
        t += service;
        w.write(new TraceEvent.RequestDone(t, "r" + id++, TraceEvent.Status.OK, 0, loadNanos(bytes), service, 10, null));
        for (int i = 2 * round; i < 2 * round + 2; i++) {
          long prompt = 100 + 80 * i;
          long output = 5 + 4 * ((i * 2) % 5); // not in proportion to the prompt: both rates can be told apart
          long solo = Math.round(1e9 * (prompt / 1000.0 + output / 50.0));
          w.write(new TraceEvent.Request(t, "r" + id, model, prompt, output, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN));
          t += solo;
          w.write(new TraceEvent.RequestDone(t, "r" + id++, TraceEvent.Status.OK, 0, 0, solo, output, null));
        }
        for (int i = 2 * round; i < 2 * round + 2; i++) {
          long prompt = 150 + 60 * i;
          long output = 8 + 3 * i;
          long shared = Math.round(1.5e9 * (prompt / 1000.0 + output / 50.0));
          w.write(new TraceEvent.Request(t, "r" + id, model, prompt, output, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN));
          w.write(new TraceEvent.Request(t, "r" + (id + 1), model, prompt, output, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN));
          t += shared;
          w.write(new TraceEvent.RequestDone(t, "r" + id++, TraceEvent.Status.OK, 0, 0, shared, output, null));
          w.write(new TraceEvent.RequestDone(t, "r" + id++, TraceEvent.Status.OK, 0, 0, shared, output, null));
        }
      }
      w.write(new TraceEvent.End(t + 1));
    }
    Calibration.Result fit = Calibration.fit(file);
    Profile p = fit.profile();
    assertEquals(0.5, p.figures().get("service_slowdown_per_generation").value(), 0.02, "each other generation adds half: " + fit.quality());
    assertEquals(36, p.figures().get("service_slowdown_per_generation").observations(), "the 36 requests served in pairs");
    assertEquals(50, p.models().get("medium").decodeTokensPerSecond().value(), 1.5);
    assertEquals(1000, p.models().get("medium").prefillTokensPerSecond().value(), 30);
    for (String model : List.of("small", "medium", "large")) {
      assertEquals(0.2, p.models().get(model).coldServiceExtraSeconds() == null ? Double.NaN
          : p.models().get(model).coldServiceExtraSeconds().value(), 0.02, model + "'s cold extra");
    }
    assertEquals(0.5, p.host().service().slowdownPerGeneration(), 0.02, "and the profile's host takes it");
  }

  // Loads slowed by 100 ms per GB evicted for them (the server frees those models while loading):
  // the delay is found, and the line stays where it was made.
  @Test
  void findsTheDelayOfLoadsAfterEvictions() {
    Profile p = Calibration.fit(recording(0.1)).profile();
    assertEquals(1e-10, p.figures().get("load_s_per_evicted_byte").value(), 0.05e-10);
    assertEquals(8, p.figures().get("load_s_per_evicted_byte").observations());
    assertEquals(0.040, p.figures().get("load_overhead_s").value(), 0.002);
    assertEquals(500e6, p.figures().get("load_bytes_per_s").value(), 5e6);
    assertEquals(1e-10, p.host().loadSecondsPerEvictedByte(), 0.05e-10);
  }

  // The first two loads are the warm-up: found as they were made, whatever the model, and left out of
  // the line; the stall stays in the spread, relative to its load's line (80 ms: 900 ms is +1125 %).
  @Test
  void findsTheWarmUp_andKeepsTheStallInTheSpread() {
    LoadSpread spread = Calibration.fit(recording()).profile().host().loadSpread();
    assertEquals(2, spread.warmupSeconds().size());
    assertEquals(0.300, spread.warmupSeconds().get(0), 0.002);
    assertEquals(0.150, spread.warmupSeconds().get(1), 0.002);
    assertEquals(8, spread.relative().size());
    assertEquals(0, spread.relative().get(0), 1e-3, "loads on the line are at their usual time");
    assertEquals(11.25, spread.relative().get(7), 0.05, "the stall: 900 ms over an 80 ms line");
    assertEquals(java.util.Map.of("large", 0.0, "small", 0.0), spread.offsetSeconds(), "both models' loads centre on the line");
  }

  // Loads stray in proportion to their length (the same fractions for a 20 MB and a 200 MB model), and
  // one model loads 50 ms slower than its bytes say: the spread is found as fractions, the model's offset
  // in seconds, and the line stays where it was made (most loads are on it).
  @Test
  void findsTheRelativeSpread_andEachModelsOffset() {
    List<String> order = new java.util.ArrayList<>(List.of("small", "medium")); // the warm-up, on the line here
    for (int j = 0; j < 10; j++) {
      order.add("small");
      order.add("medium");
      if (j % 3 == 2) {
        order.add("large");
      }
    }
    java.util.Map<String, Integer> seen = new java.util.HashMap<>();
    java.util.Map<String, java.util.Map<Integer, Double>> deviation = java.util.Map.of( // a model's k-th load after the warm-up
        "small", java.util.Map.of(1, 0.2, 6, 0.5), "medium", java.util.Map.of(2, -0.1, 7, 0.2), "large", java.util.Map.of());
    Extra extra = (i, model, line) -> {
      if (i < 2) {
        return 0;
      }
      int k = seen.merge(model, 1, Integer::sum) - 1;
      return model.equals("large") ? 50_000_000L : Math.round(line * deviation.get(model).getOrDefault(k, 0.0));
    };
    Profile p = Calibration.fit(recording(order.toArray(String[]::new), 0, extra)).profile();
    LoadSpread spread = p.host().loadSpread();
    assertEquals(0.040, p.figures().get("load_overhead_s").value(), 1e-4, "most loads are on the line");
    assertEquals(0.050, spread.offsetSeconds().get("large"), 1e-4, spread.toString());
    assertEquals(0, spread.offsetSeconds().get("small"), 1e-4, spread.toString());
    assertEquals(0, spread.offsetSeconds().get("medium"), 1e-4, spread.toString());
    List<Double> made = new java.util.ArrayList<>(java.util.Collections.nCopies(19, 0.0));
    made.addAll(List.of(-0.1, 0.2, 0.2, 0.5));
    made.sort(null);
    assertEquals(made, spread.relative().stream().map(r -> Math.round(r * 1e4) / 1e4).toList(),
        "fractions of each load's own usual time, the same for a 20 MB and a 100 MB model, large's offset taken off");
  }

  // Two recordings, two processes: each has its own warm-up (the median of each place is kept), the
  // line is fitted over the later loads of both, and every figure counts the observations of both.
  @Test
  void severalRecordings_areFittedTogether_eachWithItsOwnWarmUp() {
    Path first = recording("first.jsonl", ORDER, 0, WARMUP_AND_STALL);
    Path second = recording("second.jsonl", ORDER, 0, (i, model, line) -> i == 0 ? 100_000_000L : i == 1 ? 250_000_000L : 0);
    Calibration.Result r = Calibration.fit(List.of(first, second));
    Profile p = r.profile();
    assertEquals(0.040, p.figures().get("load_overhead_s").value(), 0.002);
    assertEquals(500e6, p.figures().get("load_bytes_per_s").value(), 5e6);
    assertEquals(16, p.figures().get("load_bytes_per_s").observations(), "8 later loads of each");
    assertEquals(List.of(0.2, 0.2), p.host().loadSpread().warmupSeconds().stream().map(w -> Math.round(w * 1e3) / 1e3).toList(),
        "place 1: 300 and 100 ms, place 2: 150 and 250 ms");
    assertEquals(16, p.host().loadSpread().relative().size());
    assertEquals(3 * MB, p.figures().get("growth_per_load_bytes").value(), 0.05 * MB, "loads so far counted in each process");
    assertEquals(40, p.figures().get("growth_per_load_bytes").observations());
    assertEquals(10, p.models().get("large").decodeTokensPerSecond().observations(), "both recordings' requests");
    assertEquals(first + ", " + second, p.source());
    Path workload = dir.resolve("workload.jsonl"); // arrivals only: nothing to fit, and said so even beside a recording
    TraceWriter.durable(workload, new TraceHeader(Optional.empty(), Optional.of("test"), TraceEvent.UNKNOWN, (int) TraceEvent.UNKNOWN, java.util.Map.of(), Optional.of(TABLE))).close();
    assertEquals(workload + " has 0 load lines and 0 memory samples; calibrate needs both (a recording of mlxcap serve that loaded models)",
        assertThrows(InvalidInputException.class, () -> Calibration.fit(List.of(first, workload))).getMessage());
  }

  // A model loaded 30 times after the warm-up has its own deviations (here small's, some 20 % slow);
  // one loaded 3 times keeps the pool. They survive the profile's file.
  @Test
  void aModelLoadedOftenEnough_hasItsOwnDeviations() throws Exception {
    List<String> order = new java.util.ArrayList<>(List.of("small", "medium"));
    for (int j = 0; j < LoadTimeFitter.OWN_SPREAD_LOADS; j++) {
      order.add("small");
      order.add("medium");
      if (j % 10 == 5) {
        order.add("large");
      }
    }
    java.util.Map<String, Integer> seen = new java.util.HashMap<>();
    Extra extra = (i, model, line) -> i >= 2 && model.equals("small") && seen.merge(model, 1, Integer::sum) % 5 == 0
        ? Math.round(line * 0.2) : 0;
    Profile p = Calibration.fit(recording(order.toArray(String[]::new), 0, extra)).profile();
    LoadSpread spread = p.host().loadSpread();
    assertEquals(java.util.Set.of("small", "medium"), spread.relativeByModel().keySet(), spread.toString());
    assertEquals(LoadTimeFitter.OWN_SPREAD_LOADS, spread.relativeByModel().get("small").size());
    assertEquals(6, spread.relativeByModel().get("small").stream().filter(r -> Math.abs(r - 0.2) < 0.01).count(),
        "small's every fifth load, 20 % slow: " + spread.relativeByModel().get("small"));
    assertTrue(spread.relativeByModel().get("medium").stream().allMatch(r -> Math.abs(r) < 0.01), "medium's loads are all on the line");
    assertEquals(2 * LoadTimeFitter.OWN_SPREAD_LOADS + 3, spread.relative().size(), "the pool keeps every later load");
    Path file = dir.resolve("own.json");
    p.write(file);
    assertEquals(p.host(), Profile.read(file).host());
  }

  // A load that took less than the delay fitted for what it evicted (seen on a real recording of a
  // few loads): its deviation is -100 %, not below, and the profile is still made.
  @Test
  void aLoadFasterThanItsEvictionDelay_isADeviationOfMinus100Percent() {
    String[] order = {"small", "medium", "large", "small", "large", "medium", "small", "large", "small", "medium", "large",
        "medium", "small", "medium", "large", "small"};
    Extra extra = (i, model, line) -> i == 8 ? -line - 95_000_000L : 0; // load 9 evicted 200 MB: 100 ms of delay, took 5 ms
    Profile p = Calibration.fit(recording(order, 0.5, extra)).profile();
    assertEquals(5e-10, p.host().loadSecondsPerEvictedByte(), 0.5e-10);
    assertEquals(-1, p.host().loadSpread().relative().get(0), 1e-9, p.host().loadSpread().toString());
  }

  @Test
  void profile_roundTripsThroughItsFile_andReplacesTheTablesFigures() throws Exception {
    Profile p = Calibration.fit(recording(0.1)).profile();
    Path file = dir.resolve("profile.json");
    p.write(file);
    Profile back = Profile.read(file);
    assertEquals(p.host(), back.host());
    assertEquals(p.models(), back.models());
    ModelTable applied = back.applyTo(TABLE);
    assertEquals(50, applied.resolve("small").performance().decodeTokensPerSecond(), 0.1);
    assertEquals(200 * MB, applied.resolve("large").size().expectedBytes());
  }

  @Test
  void badInput_oneSentence() throws Exception {
    Path empty = dir.resolve("empty.jsonl");
    java.nio.file.Files.writeString(empty, "{\"type\":\"request\",\"t_ms\":0,\"model\":\"fast\"}\n");
    assertEquals(empty + " has no model table in its header: calibrate needs a recording made by mlxcap serve",
        assertThrows(InvalidInputException.class, () -> Calibration.fit(empty)).getMessage());
    Path notProfile = dir.resolve("p.json");
    java.nio.file.Files.writeString(notProfile, "{\"format\":\"something\"}");
    assertEquals("--profile " + notProfile + " is not a host profile (\"format\" is not \"mlxcap-host-profile\")",
        assertThrows(InvalidInputException.class, () -> Profile.read(notProfile)).getMessage());
    Path older = dir.resolve("older.json");
    java.nio.file.Files.writeString(older, "{\"format\":\"mlxcap-host-profile\",\"version\":1,\"host\":{\"load_time_residuals_s\":{}}}");
    assertEquals("--profile " + older + " was written by an earlier calibrate (it has load_time_residuals_s, now load_time_spread);"
        + " run mlxcap calibrate on its recording again", assertThrows(InvalidInputException.class, () -> Profile.read(older)).getMessage());
    Path badSpread = dir.resolve("bad-spread.json");
    java.nio.file.Files.writeString(badSpread, "{\"format\":\"mlxcap-host-profile\",\"version\":1,\"host\":{\"load_time_spread\":"
        + "{\"relative\":[0.1,\"fast\"]}}}");
    assertEquals("--profile " + badSpread + ": \"load_time_spread.relative\" holds \"fast\", not a number",
        assertThrows(InvalidInputException.class, () -> Profile.read(badSpread)).getMessage());
  }
}
