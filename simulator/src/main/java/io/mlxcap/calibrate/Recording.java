package io.mlxcap.calibrate;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code calibrate} observes in one or more recordings, read once, in the rows the fitters take:
 * the loads (bytes, time, bytes evicted for each, its place among its process's loads), the memory
 * samples beside what was resident and loading then and the request being served, the host's other
 * use, and each model's served requests with how many generations were in service beside each.
 */
final class Recording {
  /**
   * A request that waited longer than this for its model waited for a load (a cold start); below it is
   * a hit: a load takes tens of milliseconds at least, and a recording of an earlier server counted a
   * hit's hand-over between threads (microseconds) as its wait.
   */
  static final long COLD_WAIT_NANOS = 1_000_000;

  /** A request being served: from {@code start} to {@code end}, {@code tokens} of context. */
  record Serving(double start, double end, String model, double tokens) {
    /** More than one request was being served. */
    static final Serving MANY = new Serving(0, 0, "", 0);
  }

  /** The first recording's header (the host's RAM). */
  TraceHeader header;
  /** Per load: bytes, duration ns, bytes evicted to make room for it, its place among its process's loads. */
  final List<long[]> loads = new ArrayList<>();
  /** Beside each load: its model. */
  final List<String> loadModels = new ArrayList<>();
  /** The bytes of each load of each model, in order. */
  final Map<String, List<Long>> bytesByModel = new LinkedHashMap<>();
  /** Per memory sample: rss - resident, loads done, rss, resident, loading expected bytes, loads started, time ns. */
  final List<double[]> memory = new ArrayList<>();
  /** Beside each memory sample: the request being served then, {@link Serving#MANY}, or null. */
  final List<Serving> during = new ArrayList<>();
  /** Host RAM in use minus the server's RSS, per sample that read the host. */
  final List<Long> other = new ArrayList<>();
  /** Per model, its served requests: prompt, output, seconds, generations in service beside it (itself included), 1 when cold. */
  final Map<String, List<double[]>> service = new LinkedHashMap<>();
  /** The recordings' names as one string: "a.jsonl" or "a.jsonl, b.jsonl". */
  final String source;

  private Recording(List<Path> traces) {
    this.source = String.join(", ", traces.stream().map(Path::toString).toList());
  }

  /**
   * Reads {@code traces}, each a process of its own (its own warm-up, its own loads so far).
   *
   * @throws InvalidInputException when one has nothing to fit (no loads or no memory samples)
   */
  static Recording read(List<Path> traces) {
    Recording r = new Recording(traces);
    for (Path trace : traces) {
      r.add(trace);
    }
    return r;
  }

  private void add(Path trace) {
    Map<String, long[]> requests = new HashMap<>(); // id -> prompt tokens
    Map<String, String> requestModel = new HashMap<>();
    List<Serving> servings = new ArrayList<>();
    List<double[]> served = new ArrayList<>(); // beside servings: each one's service row
    int firstSample = memory.size();
    int firstLoad = loads.size();
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      TraceHeader h = reader.header();
      header = header == null ? h : header;
      ModelTable table = h.models().orElseThrow(() -> new InvalidInputException(trace
          + " has no model table in its header: calibrate needs a recording made by mlxcap serve"));
      Map<String, Long> resident = new HashMap<>();
      Map<String, Long> loading = new HashMap<>();
      int loadsDone = 0;
      int loadsStarted = 0;
      // Evictions written at a load's start (the same decision) made room for it; the server frees them while it loads.
      long evictedAt = -1;
      long evictedBytes = 0;
      Map<String, Long> freedForLoad = new HashMap<>();
      for (TraceEvent e = reader.next(); e != null; e = reader.next()) {
        if (e instanceof TraceEvent.LoadStart s) {
          loading.put(s.model(), Math.max(0, s.expectedBytes()));
          loadsStarted++;
          freedForLoad.put(s.model(), s.timeNanos() == evictedAt ? evictedBytes : 0);
          evictedBytes = 0;
        } else if (e instanceof TraceEvent.Load l) {
          loading.remove(l.model());
          resident.put(l.model(), l.bytes());
          loadsDone++;
          Long freed = freedForLoad.remove(l.model());
          loads.add(new long[] {l.bytes(), l.durationNanos(), freed == null ? 0 : freed, loadsDone - 1});
          loadModels.add(l.model());
          bytesByModel.computeIfAbsent(l.model(), m -> new ArrayList<>()).add(l.bytes());
        } else if (e instanceof TraceEvent.LoadFailed f) {
          loading.remove(f.model());
        } else if (e instanceof TraceEvent.Evict v) {
          resident.remove(v.model());
          if (v.timeNanos() != evictedAt) {
            evictedAt = v.timeNanos();
            evictedBytes = 0;
          }
          evictedBytes += v.bytes();
        } else if (e instanceof TraceEvent.Memory m && m.rssBytes() > 0) {
          long res = resident.values().stream().mapToLong(Long::longValue).sum();
          long inFlight = loading.values().stream().mapToLong(Long::longValue).sum();
          memory.add(new double[] {m.rssBytes() - res, loadsDone, m.rssBytes(), res, inFlight, loadsStarted, m.timeNanos()});
          if (m.hostUsedBytes() > 0) {
            other.add(Math.max(0, m.hostUsedBytes() - m.rssBytes()));
          }
        } else if (e instanceof TraceEvent.Request r) {
          requests.put(r.id(), new long[] {r.promptTokens()});
          table.find(r.model()).map(ModelSpec::name).ifPresent(name -> requestModel.put(r.id(), name));
        } else if (e instanceof TraceEvent.RequestDone d && d.status() == TraceEvent.Status.OK
            && d.serviceNanos() != TraceEvent.UNKNOWN && d.outputTokens() != TraceEvent.UNKNOWN) {
          long[] r = requests.remove(d.id());
          String model = requestModel.remove(d.id());
          if (r != null && model != null && r[0] != TraceEvent.UNKNOWN) {
            // prompt, output, seconds, generations in service beside it on average (itself included), cold
            double[] row = {r[0], d.outputTokens(), d.serviceNanos() / 1e9, 1, d.loadWaitNanos() > COLD_WAIT_NANOS ? 1 : 0};
            service.computeIfAbsent(model, m -> new ArrayList<>()).add(row);
            served.add(row);
            servings.add(new Serving(d.timeNanos() - d.serviceNanos(), d.timeNanos(), model, r[0] + d.outputTokens()));
          }
        }
      }
    }
    concurrency(servings, served);
    if (loads.size() == firstLoad || memory.size() == firstSample) {
      throw new InvalidInputException(trace + " has " + (loads.size() - firstLoad) + " load lines and " + (memory.size() - firstSample)
          + " memory samples; calibrate needs both (a recording of mlxcap serve that loaded models)");
    }
    for (double[] m : memory.subList(firstSample, memory.size())) {
      // Which request was generating when the sample was taken (one worker: at most one, usually).
      Serving in = null;
      int count = 0;
      for (Serving sv : servings) {
        if (sv.start() < m[6] && m[6] < sv.end()) {
          in = sv;
          count++;
        }
      }
      during.add(count == 1 ? in : count == 0 ? null : Serving.MANY);
    }
  }

  /**
   * Sets each service row's mean number of generations in service during it (itself included): the
   * time-weighted count of the services that overlap it, over its length.
   */
  private static void concurrency(List<Serving> servings, List<double[]> rows) {
    Integer[] order = new Integer[servings.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(i -> servings.get(i).start()));
    for (int a = 0; a < order.length; a++) {
      Serving s = servings.get(order[a]);
      double length = s.end() - s.start();
      if (length <= 0) {
        continue;
      }
      double shared = 0;
      for (int b = 0; b < order.length; b++) {
        Serving t = servings.get(order[b]);
        if (t.start() >= s.end()) {
          break; // sorted by start: none later overlaps
        }
        shared += Math.max(0, Math.min(s.end(), t.end()) - Math.max(s.start(), t.start()));
      }
      rows.get(order[a])[3] = shared / length;
    }
  }
}
