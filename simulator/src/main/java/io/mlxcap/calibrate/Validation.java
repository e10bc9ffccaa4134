package io.mlxcap.calibrate;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CacheEvent;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.LogHistogram;
import io.mlxcap.sim.RecordedTiming;
import io.mlxcap.sim.RequestSource;
import io.mlxcap.sim.SimResult;
import io.mlxcap.sim.Simulation;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A recording replayed under its own settings and arrivals (with a host profile, if given), side by
 * side with what the server observed: the load/evict sequence, memory, waits and counts.
 */
public final class Validation {

  /** One compared figure; {@code tolerance} NaN when it is shown but not held to one. */
  public record Row(String name, double measured, double predicted, String unit, double tolerance) {
    /** Relative error of the prediction, in percent (NaN when the measurement is 0). */
    public double errorPercent() {
      return measured == 0 ? (predicted == 0 ? 0 : Double.NaN) : 100.0 * (predicted - measured) / measured;
    }

    /** True when held to a tolerance and outside it. */
    public boolean failed() {
      return !Double.isNaN(tolerance) && !(Math.abs(errorPercent()) <= tolerance);
    }
  }

  /**
   * Where a replay's timing comes from. {@code RECORDED}: each load takes as long as the server's
   * load of it did, each request is served for as long as the server served it, and the cleanup ticks
   * come when the server ran them, so the replay makes the core's calls at the server's times and its
   * decisions must be the server's at any number of workers. {@code PREDICTED}: loads, services and
   * ticks come from the host profile and the model table, as in a prediction made before the run; two
   * loads that end a few milliseconds apart may then end in the other order, and a different victim
   * after such a race is a legitimate outcome, so the run is judged on its figures.
   */
  public enum Timing {
    RECORDED,
    PREDICTED;

    /** The name the command line uses. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A replay with one part of its timing taken from the recording, and its figures beside the measured ones. */
  public record Term(String name, List<Row> rows) {}

  /** The tolerances, in percent: peak RSS, cold-start waits, latencies. */
  public record Tolerances(double rss, double waits, double latency) {
    /** The defaults: 5 % for peak RSS, 10 % for the waits and the latencies. */
    public static final Tolerances DEFAULT = new Tolerances(5, 10, 10);
  }

  /**
   * What validation found.
   *
   * @param recorded the recorded loads and evictions, in order ("load MODEL CAUSE", "evict MODEL REASON")
   * @param replayed the replay's
   * @param race at the first divergence, why the sequences parted when it was a race (two models used
   *     closer together than their timing can be told apart), else empty
   * @param unrecordedLoads loads a recorded-timing replay had to time from the profile (it made more
   *     loads of a model than the recording holds)
   * @param terms with predicted timing, which term of the model an error comes from: the same waits
   *     and latencies replayed with the loads as recorded (what is left is the services' error) and
   *     with the services as recorded (the loads' error); shown, never held to the tolerances; empty
   *     with recorded timing
   */
  public record Result(Timing timing, List<String> recorded, List<String> replayed, List<Row> rows, SimResult prediction,
      java.util.Optional<String> race, long unrecordedLoads, List<Term> terms) {
    /** The index of the first decision that differs, or -1 when the sequences are identical. */
    public int firstDivergence() {
      int n = Math.min(recorded.size(), replayed.size());
      for (int i = 0; i < n; i++) {
        if (!recorded.get(i).equals(replayed.get(i))) {
          return i;
        }
      }
      return recorded.size() == replayed.size() ? -1 : n;
    }

    /**
     * True when every figure held to a tolerance is within it, and, with recorded timing, the
     * decisions are identical (with predicted timing they may part after a race; the figures judge).
     */
    public boolean passed() {
      return (timing == Timing.PREDICTED || firstDivergence() < 0) && rows.stream().noneMatch(Row::failed);
    }
  }

  private Validation() {}

  /** {@link #run(Path, Profile, Tolerances, Timing)} with predicted timing and the latencies held to {@code waitTolerance}. */
  public static Result run(Path trace, Profile profile, double rssTolerance, double waitTolerance) {
    return run(trace, profile, new Tolerances(rssTolerance, waitTolerance, waitTolerance), Timing.PREDICTED);
  }

  /**
   * Replays {@code trace} with {@code profile} (null: the simulator's default host, the trace's
   * table) and {@code timing}, and compares.
   */
  public static Result run(Path trace, Profile profile, Tolerances tolerances, Timing timing) {
    Measured m = measure(trace);
    ModelTable table = m.header.models().orElseThrow(() -> new InvalidInputException(trace
        + " has no model table in its header: validate needs a recording made by mlxcap serve"));
    if (profile != null) {
      table = profile.applyTo(table);
    }
    HostProfile host = profile != null ? profile.host() : HostProfile.DEFAULT;
    if (m.header.hostRamBytes() > 0 && (profile == null || !profile.figures().containsKey("ram_bytes"))) {
      host = host.withRam(m.header.hostRamBytes(), Math.min(host.otherBytes(), m.header.hostRamBytes() / 2));
    }
    // The header's settings say whose server recorded it (serve --policy): the replay runs that policy.
    // mlxcap's reference server grows the KV cache with each request under every policy: its replay must
    // not add the context a real Ollama allocates at load.
    Settings settings = Settings.fromEnv(io.mlxcap.settings.ServerPolicy.of(m.header.settings()), m.header.settings(), table)
        .withKvPerRequest();
    List<String> replayed = new ArrayList<>();
    long line = host.ramBytes() - host.otherBytes();
    boolean recorded = timing == Timing.RECORDED;
    // The trace is read once for all the replays below: its requests and its recorded timing.
    RequestSource.InMemory requests = RequestSource.InMemory.read(trace, TraceReader.Mode.STRICT);
    RecordedTiming recordedTiming = RecordedTiming.read(trace, TraceReader.Mode.STRICT);
    Replay replay = replay(requests, recordedTiming, settings, table, host, line, recorded, recorded, replayed);
    SimResult p = replay.result();
    List<Row> rows = new ArrayList<>();
    rows.add(new Row("peak RSS", m.peakRss, p.peakRssBytes(), "bytes", tolerances.rss()));
    rows.add(new Row("mean RSS", m.meanRss, p.meanRssBytes(), "bytes", Double.NaN));
    rows.add(new Row("time over " + ByteSize.format(line), m.aboveLine(line) / 1e9, p.aboveLineNanos() / 1e9, "s", Double.NaN));
    rows.addAll(waitsAndLatencies(m, p, tolerances));
    rows.add(new Row("loads", m.loads, p.totalLoads(), "", Double.NaN));
    rows.add(new Row("evictions", m.evictions, p.totalEvictions(), "", Double.NaN));
    rows.add(new Row("cold starts", m.coldWaits.size(), p.coldStarts(), "", Double.NaN));
    rows.add(new Row("refused", m.refused, p.rejected(), "", Double.NaN));
    for (SimResult.ModelResult model : p.models()) {
      rows.add(new Row("  " + model.model() + " loads", m.loadsOf.getOrDefault(model.model(), 0L), model.loads(), "", Double.NaN));
      rows.add(new Row("  " + model.model() + " evictions", m.evictionsOf.getOrDefault(model.model(), 0L), model.evictions(), "",
          Double.NaN));
    }
    List<Term> terms = recorded ? List.of() : List.of(
        new Term("loads as recorded, services predicted", waitsAndLatencies(m,
            replay(requests, recordedTiming, settings, table, host, line, true, false, null).result(), tolerances)),
        new Term("services as recorded, loads predicted", waitsAndLatencies(m,
            replay(requests, recordedTiming, settings, table, host, line, false, true, null).result(), tolerances)));
    Result first = new Result(timing, m.decisions, replayed, rows, p, java.util.Optional.empty(), replay.unrecordedLoads(), terms);
    int at = first.firstDivergence();
    return at < 0 || at >= m.decisions.size() || at >= replayed.size() ? first
        : new Result(timing, m.decisions, replayed, rows, p, m.race(at, replayed.get(at)), replay.unrecordedLoads(), terms);
  }

  private record Replay(SimResult result, long unrecordedLoads) {}

  /**
   * One replay of the recording's requests: its loads (durations, bytes) and cleanup ticks as recorded
   * or from the profile, its services as recorded or from the profile; the decisions go to {@code decisions}
   * (null: not kept).
   */
  private static Replay replay(RequestSource.InMemory requests, RecordedTiming recordedTiming, Settings settings, ModelTable table,
      HostProfile host, long line, boolean recordedLoads, boolean recordedServices, List<String> decisions) {
    Simulation simulation = new Simulation(settings, table, host, SizeRange.Estimate.EXPECTED, line);
    if (decisions != null) {
      simulation.onDecision((time, event) -> {
        if (event instanceof CacheEvent.LoadStarted s) {
          decisions.add("load " + s.model() + " " + s.cause().wireName());
        } else if (event instanceof CacheEvent.Evicted v) {
          decisions.add("evict " + v.model() + " " + v.reason().wireName());
        }
      });
    }
    if (recordedLoads) {
      simulation.withRecordedTiming(recordedTiming);
    }
    RequestSource.InMemory served = recordedServices ? requests : requests.withoutServiceTimes();
    return new Replay(simulation.run(served.replay()), simulation.unrecordedLoads());
  }

  /** The cold-start waits' and latencies' p50 and p95 of replay {@code p}, beside the measured ones. */
  private static List<Row> waitsAndLatencies(Measured m, SimResult p, Tolerances tolerances) {
    return List.of(
        new Row("cold-start wait p50", quantile(m.coldWaits, 0.5), quantile(p.coldWait(), 0.5), "s", tolerances.waits()),
        new Row("cold-start wait p95", quantile(m.coldWaits, 0.95), quantile(p.coldWait(), 0.95), "s", tolerances.waits()),
        new Row("latency p50", quantile(m.latencies, 0.5), quantile(p.latency(), 0.5), "s", tolerances.latency()),
        new Row("latency p95", quantile(m.latencies, 0.95), quantile(p.latency(), 0.95), "s", tolerances.latency()));
  }

  private static double quantile(List<Long> values, double q) {
    long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
    return LogHistogram.nearestRank(sorted, q) / 1e9;
  }

  private static double quantile(LogHistogram h, double q) {
    return h.count() == 0 ? 0 : h.quantile(q) / 1e9;
  }

  /** What the server observed. */
  private static final class Measured {
    TraceHeader header;
    final List<String> decisions = new ArrayList<>();
    final List<long[]> samples = new ArrayList<>(); // time, rss
    long peakRss;
    double meanRss;
    final List<Long> coldWaits = new ArrayList<>();
    final List<Long> latencies = new ArrayList<>();
    long loads;
    long evictions;
    long refused;
    final Map<String, Long> loadsOf = new HashMap<>();
    final Map<String, Long> evictionsOf = new HashMap<>();
    /** The time of each recorded decision. */
    final List<Long> decisionTimes = new ArrayList<>();
    /** Per model: the times the server used it (a load started, a request got it or let it go), in order. */
    final Map<String, List<Long>> uses = new HashMap<>();
    /** Per model: how long its loads and its services took. */
    final Map<String, List<Long>> loadTimes = new HashMap<>();
    final Map<String, List<Long>> serviceTimes = new HashMap<>();

    void use(String model, long t) {
      uses.computeIfAbsent(model, k -> new ArrayList<>()).add(t);
    }

    /**
     * Whether the decision at {@code at}, an eviction where the replay evicted another model, follows
     * a race: the two models were last used before it closer together than their loads and services
     * vary, so either could have been the less recently used.
     */
    java.util.Optional<String> race(int at, String replayedDecision) {
      String[] server = decisions.get(at).split(" ");
      String[] replay = replayedDecision.split(" ");
      if (!server[0].equals("evict") || !replay[0].equals("evict") || server[1].equals(replay[1])) {
        return java.util.Optional.empty();
      }
      long t = decisionTimes.get(at);
      long a = lastUseBefore(server[1], t);
      long b = lastUseBefore(replay[1], t);
      if (a < 0 || b < 0) {
        return java.util.Optional.empty();
      }
      long gap = Math.abs(a - b);
      long window = Math.max(spread(server[1]), spread(replay[1]));
      if (gap >= window) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(String.format(Locale.ROOT,
          "a race: the server last used %s and %s %.1f ms apart before this eviction, and their loads and services vary "
              + "by %.1f ms (5th to 95th percentile): either could have been the less recently used", server[1], replay[1],
          gap / 1e6, window / 1e6));
    }

    private long lastUseBefore(String model, long t) {
      long last = -1;
      for (long u : uses.getOrDefault(model, List.of())) {
        if (u < t) {
          last = Math.max(last, u);
        }
      }
      return last;
    }

    /** How much a model's loads and services vary: the wider of their 5th-to-95th-percentile ranges. */
    private long spread(String model) {
      return Math.max(range(loadTimes.getOrDefault(model, List.of())), range(serviceTimes.getOrDefault(model, List.of())));
    }

    private static long range(List<Long> values) {
      if (values.size() < 2) {
        return 0;
      }
      long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
      return LogHistogram.nearestRank(sorted, 0.95) - LogHistogram.nearestRank(sorted, 0.05);
    }

    long aboveLine(long line) {
      long above = 0;
      for (int i = 0; i + 1 < samples.size(); i++) {
        if (samples.get(i)[1] > line) {
          above += samples.get(i + 1)[0] - samples.get(i)[0];
        }
      }
      return above;
    }
  }

  /** True when {@code t} falls in one of {@code spans} (loaded at, evicted at). */
  private static boolean residentAt(List<long[]> spans, long t) {
    for (long[] s : spans) {
      if (s[0] <= t && t < s[1]) {
        return true;
      }
    }
    return false;
  }

  private static Measured measure(Path trace) {
    Measured m = new Measured();
    Map<String, Long> arrivals = new HashMap<>();
    Map<String, String> requestModel = new HashMap<>();
    Map<String, List<long[]>> resident = new HashMap<>(); // model -> [loaded at, evicted at)
    long end = 0;
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      m.header = reader.header();
      io.mlxcap.model.ModelTable table = m.header.models().orElse(io.mlxcap.model.ModelTable.defaults());
      for (TraceEvent e = reader.next(); e != null; e = reader.next()) {
        end = Math.max(end, e.timeNanos());
        if (e instanceof TraceEvent.LoadStart s) {
          m.decisions.add("load " + s.model() + " " + s.cause().wireName());
          m.decisionTimes.add(s.timeNanos());
          m.use(s.model(), s.timeNanos());
        } else if (e instanceof TraceEvent.Load l) {
          m.loads++;
          m.loadsOf.merge(l.model(), 1L, Long::sum);
          if (l.durationNanos() != TraceEvent.UNKNOWN) {
            m.loadTimes.computeIfAbsent(l.model(), k -> new ArrayList<>()).add(l.durationNanos());
          }
          resident.computeIfAbsent(l.model(), k -> new ArrayList<>()).add(new long[] {l.timeNanos(), Long.MAX_VALUE});
        } else if (e instanceof TraceEvent.Evict v) {
          m.decisions.add("evict " + v.model() + " " + v.reason().wireName());
          m.decisionTimes.add(v.timeNanos());
          m.evictions++;
          m.evictionsOf.merge(v.model(), 1L, Long::sum);
          List<long[]> spans = resident.get(v.model());
          if (spans != null && !spans.isEmpty()) {
            spans.get(spans.size() - 1)[1] = v.timeNanos();
          }
        } else if (e instanceof TraceEvent.Memory s && s.rssBytes() > 0) {
          m.samples.add(new long[] {s.timeNanos(), s.rssBytes()});
          m.peakRss = Math.max(m.peakRss, s.rssBytes());
        } else if (e instanceof TraceEvent.Request r) {
          arrivals.put(r.id(), r.timeNanos());
          requestModel.put(r.id(), table.find(r.model()).map(io.mlxcap.model.ModelSpec::name).orElse(r.model()));
        } else if (e instanceof TraceEvent.RequestDone d) {
          Long arrived = arrivals.remove(d.id());
          String used = requestModel.get(d.id());
          if (used != null && d.queueNanos() != TraceEvent.UNKNOWN && arrived != null) {
            m.use(used, arrived + d.queueNanos()); // it got its worker and asked for the model
            m.use(used, d.timeNanos());
          }
          if (used != null && d.status() == TraceEvent.Status.OK && d.serviceNanos() != TraceEvent.UNKNOWN) {
            m.serviceTimes.computeIfAbsent(used, k -> new ArrayList<>()).add(d.serviceNanos());
          }
          if (d.status() == TraceEvent.Status.REJECTED) {
            m.refused++;
          } else if (d.status() == TraceEvent.Status.OK && arrived != null) {
            m.latencies.add(d.timeNanos() - arrived);
            // Cold, as the simulator counts it: its model was not resident when it got its worker.
            String model = requestModel.remove(d.id());
            if (d.loadWaitNanos() != TraceEvent.UNKNOWN && d.serviceNanos() != TraceEvent.UNKNOWN && model != null
                && !residentAt(resident.getOrDefault(model, List.of()), d.timeNanos() - d.serviceNanos() - d.loadWaitNanos())) {
              m.coldWaits.add(d.loadWaitNanos());
            }
          }
        }
      }
    }
    if (m.samples.isEmpty()) {
      throw new InvalidInputException(trace + " has no memory samples: validate compares memory; record with mlxcap serve");
    }
    double area = 0;
    for (int i = 0; i < m.samples.size(); i++) {
      long from = m.samples.get(i)[0];
      long to = i + 1 < m.samples.size() ? m.samples.get(i + 1)[0] : end;
      area += (double) m.samples.get(i)[1] * Math.max(0, to - from);
    }
    long span = end - m.samples.get(0)[0];
    m.meanRss = span > 0 ? area / span : m.samples.get(0)[1];
    return m;
  }

  /** The comparison as lines for people. */
  public static List<String> describe(Result r, double rssTolerance, double waitTolerance) {
    List<String> out = new ArrayList<>();
    out.add("timing        " + r.timing().wireName() + (r.timing() == Timing.RECORDED
        ? ": loads, services and cleanup ticks as the server's" : ": loads, services and ticks from the profile and the table"));
    int at = r.firstDivergence();
    if (at < 0) {
      out.add(String.format(Locale.ROOT, "decisions     identical: %d loads and evictions in the same order", r.recorded().size()));
    } else {
      out.add(String.format(Locale.ROOT, "decisions     DIFFER at decision %d of %d recorded / %d replayed:", at + 1, r.recorded().size(),
          r.replayed().size()));
      for (int i = Math.max(0, at - 2); i <= at + 2 && (i < r.recorded().size() || i < r.replayed().size()); i++) {
        out.add(String.format(Locale.ROOT, "  %s %4d  server: %-45s replay: %s", i == at ? ">" : " ", i + 1,
            i < r.recorded().size() ? r.recorded().get(i) : "(none)", i < r.replayed().size() ? r.replayed().get(i) : "(none)"));
      }
      out.add("              " + r.race().orElse("not a race of two models' last uses: a rule or a timing differs"));
    }
    if (r.unrecordedLoads() > 0) {
      out.add("              " + r.unrecordedLoads() + " loads past the recording's were timed by the profile");
    }
    int width = Math.max(24, r.rows().stream().mapToInt(row -> row.name().length()).max().orElse(0));
    out.add(String.format(Locale.ROOT, "%-" + width + "s %14s %14s %9s", "", "measured", "predicted", "error"));
    for (Row row : r.rows()) {
      out.add(String.format(Locale.ROOT, "%-" + width + "s %14s %14s %9s%s", row.name(), format(row.measured(), row.unit()),
          format(row.predicted(), row.unit()), Double.isNaN(row.errorPercent()) ? "-" : String.format(Locale.ROOT, "%+.1f %%", row.errorPercent()),
          Double.isNaN(row.tolerance()) ? "" : String.format(Locale.ROOT, "   (tolerance %.0f %%)%s", row.tolerance(),
              row.failed() ? "  MISSED" : "")));
    }
    if (!r.terms().isEmpty()) {
      out.add("by term       the error left when one part of the timing is the recording's:");
      List<Row> heads = r.terms().get(0).rows();
      StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-38s", ""));
      heads.forEach(row -> head.append(String.format(Locale.ROOT, " %20s", row.name())));
      out.add(head.toString());
      for (Term term : r.terms()) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %-38s", term.name()));
        term.rows().forEach(row -> b.append(String.format(Locale.ROOT, " %20s", Double.isNaN(row.errorPercent()) ? "-"
            : String.format(Locale.ROOT, "%+.1f %%", row.errorPercent()))));
        out.add(b.toString());
      }
    }
    boolean decisionsFail = at >= 0 && r.timing() == Timing.RECORDED;
    boolean figuresFail = r.rows().stream().anyMatch(Row::failed);
    out.add(r.passed() ? "result        pass" + (at >= 0 ? " (judged on the figures: with predicted timing the decisions may part)" : "")
        : "result        FAIL: " + (decisionsFail ? "the decisions differ" : "")
        + (decisionsFail && figuresFail ? "; " : "")
        + String.join(", ", r.rows().stream().filter(Row::failed).map(Row::name).toList())
        + (figuresFail ? " outside the tolerance" : ""));
    return out;
  }

  private static String format(double value, String unit) {
    return switch (unit) {
      case "bytes" -> ByteSize.format(Math.round(value));
      case "s" -> value < 10 ? String.format(Locale.ROOT, "%.1f ms", value * 1e3) : String.format(Locale.ROOT, "%.2f s", value);
      default -> String.format(Locale.ROOT, "%.0f", value);
    };
  }
}
