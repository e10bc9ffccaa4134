package io.mlxcap.sim;

import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The timing a recording observed, for a replay that takes it instead of predicting it
 * ({@code --timing recorded}): each model's loads in order (how long each took, what it held) and the
 * times the server ran its cleanup tick. With the recorded service time of every request (joined from
 * its {@code request_done}), a replay then makes the core's calls at the server's own times, so its
 * decisions must be the server's, whatever the number of workers.
 *
 * <p>A replay that starts more loads of a model than the recording holds (its decisions parted from
 * the server's) times the rest by the host profile and counts them ({@link SimResult}'s
 * {@code unrecordedLoads}); a recording without tick lines (made before they were written) ticks on
 * the ideal schedule.
 */
public final class RecordedTiming {
  private final Map<String, long[]> durations;
  private final Map<String, long[]> bytes;
  private final long[] ticks;

  private RecordedTiming(Map<String, long[]> durations, Map<String, long[]> bytes, long[] ticks) {
    this.durations = durations;
    this.bytes = bytes;
    this.ticks = ticks;
  }

  /** The timing recorded in {@code trace}. */
  public static RecordedTiming read(Path trace, TraceReader.Mode mode) {
    Map<String, List<long[]>> loads = new HashMap<>();
    List<Long> ticks = new ArrayList<>();
    try (TraceReader reader = TraceReader.open(trace, mode)) {
      for (TraceEvent e = reader.next(); e != null; e = reader.next()) {
        if (e instanceof TraceEvent.Load l && l.durationNanos() != TraceEvent.UNKNOWN) {
          loads.computeIfAbsent(l.model(), k -> new ArrayList<>()).add(new long[] {l.durationNanos(), l.bytes()});
        } else if (e instanceof TraceEvent.Tick t) {
          ticks.add(t.timeNanos());
        }
      }
    }
    Map<String, long[]> durations = new HashMap<>();
    Map<String, long[]> bytes = new HashMap<>();
    loads.forEach((model, list) -> {
      durations.put(model, list.stream().mapToLong(x -> x[0]).toArray());
      bytes.put(model, list.stream().mapToLong(x -> x[1]).toArray());
    });
    return new RecordedTiming(durations, bytes, ticks.stream().mapToLong(Long::longValue).toArray());
  }

  /** How long the {@code n}-th load (from 0) of {@code model} took, or -1 when the recording has no such load. */
  long loadNanos(String model, int n) {
    long[] d = durations.get(model);
    return d != null && n < d.length ? d[n] : -1;
  }

  /** What the {@code n}-th load of {@code model} held, or -1 when unknown. */
  long loadBytes(String model, int n) {
    long[] b = bytes.get(model);
    return b != null && n < b.length ? b[n] : -1;
  }

  /** The times of the server's cleanup ticks, in order; empty for a recording without tick lines. */
  long[] ticks() {
    return ticks;
  }

  /** How many loads the recording holds. */
  public int loads() {
    return durations.values().stream().mapToInt(d -> d.length).sum();
  }
}
