package io.mlxcap.stats;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.trace.ReadReport;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceEvent.Evict;
import io.mlxcap.trace.TraceEvent.Load;
import io.mlxcap.trace.TraceEvent.Request;
import io.mlxcap.trace.TraceEvent.RequestDone;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a trace holds, in one streaming pass: request count, models and their shares, span, mean and
 * peak rate, how bursty arrivals are, tokens, and the outcomes a recorded trace carries.
 *
 * <p>Output tokens are what requests produced: from the {@code request_done} lines when the trace
 * has outcomes (a recording, whose request lines carry only {@code max_tokens}), else from the
 * request lines (an import or a synthetic workload).
 *
 * @param peakWindowSeconds the window the peak rate is measured over: a minute, or a second when
 *     the trace spans less than a minute (a minute window would say less than the mean rate)
 * @param peakInWindow the most requests in any window of that length (sliding, not aligned)
 * @param outputFromOutcomes whether {@code meanOutputTokens} comes from {@code request_done} lines
 * @param withoutOutcome requests of a trace with outcomes that have no {@code request_done} (a
 *     server killed before it wrote them); 0 for a trace without outcomes
 * @param interArrivalCv standard deviation over mean of the gaps between requests: 1 for Poisson
 *     arrivals, above 1 for bursty ones, NaN with fewer than three requests
 */
public record TraceStats(
    TraceHeader header,
    long requests,
    Map<String, Long> perModel,
    long firstNanos,
    long lastNanos,
    int peakWindowSeconds,
    long peakInWindow,
    double meanGapSeconds,
    double interArrivalCv,
    double meanPromptTokens,
    double meanOutputTokens,
    boolean outputFromOutcomes,
    long withoutOutcome,
    Map<String, Long> loads,
    Map<String, Long> evictions,
    Map<String, Long> outcomes,
    ReadReport report) {

  private static final long SECOND = 1_000_000_000L;

  /** Reads every event of {@code reader} and returns the statistics. */
  public static TraceStats of(TraceReader reader) {
    long requests = 0;
    Map<String, Long> perModel = new TreeMap<>();
    Map<String, Long> loads = new TreeMap<>();
    Map<String, Long> evictions = new TreeMap<>();
    Map<String, Long> outcomes = new TreeMap<>();
    long first = 0;
    long last = 0;
    SlidingCount perMinute = new SlidingCount(60 * SECOND);
    SlidingCount perSecond = new SlidingCount(SECOND);
    double gapMean = 0;
    double gapM2 = 0;
    long gaps = 0;
    long promptSum = 0;
    long promptCount = 0;
    long outputSum = 0;
    long outputCount = 0;
    long doneOutputSum = 0;
    long doneOutputCount = 0;
    long done = 0;
    for (TraceEvent event = reader.next(); event != null; event = reader.next()) {
      if (event instanceof Request r) {
        long t = r.timeNanos();
        if (requests == 0) {
          first = t;
        } else {
          double gap = (t - last) / 1e9;
          gaps++;
          double delta = gap - gapMean;
          gapMean += delta / gaps;
          gapM2 += delta * (gap - gapMean);
        }
        last = t;
        requests++;
        perModel.merge(r.model(), 1L, Long::sum);
        perMinute.add(t);
        perSecond.add(t);
        if (r.promptTokens() != TraceEvent.UNKNOWN) {
          promptSum += r.promptTokens();
          promptCount++;
        }
        if (r.outputTokens() != TraceEvent.UNKNOWN) {
          outputSum += r.outputTokens();
          outputCount++;
        }
      } else if (event instanceof Load l) {
        loads.merge(l.cause().wireName(), 1L, Long::sum);
      } else if (event instanceof Evict e) {
        evictions.merge(e.reason().wireName(), 1L, Long::sum);
      } else if (event instanceof RequestDone d) {
        outcomes.merge(d.status().name().toLowerCase(java.util.Locale.ROOT), 1L, Long::sum);
        done++;
        if (d.outputTokens() != TraceEvent.UNKNOWN) {
          doneOutputSum += d.outputTokens();
          doneOutputCount++;
        }
      }
    }
    double cv = gaps >= 2 && gapMean > 0 ? Math.sqrt(gapM2 / (gaps - 1)) / gapMean : Double.NaN;
    boolean minute = last - first >= 60 * SECOND;
    boolean fromOutcomes = doneOutputCount > 0;
    double outputMean = fromOutcomes ? (double) doneOutputSum / doneOutputCount
        : outputCount > 0 ? (double) outputSum / outputCount : Double.NaN;
    return new TraceStats(reader.header(), requests, perModel, first, last, minute ? 60 : 1,
        minute ? perMinute.max : perSecond.max, gaps > 0 ? gapMean : Double.NaN, cv,
        promptCount > 0 ? (double) promptSum / promptCount : Double.NaN, outputMean, fromOutcomes,
        done > 0 ? Math.max(0, requests - done) : 0, loads, evictions, outcomes, reader.report());
  }

  /** Requests per second in the busiest window. */
  public double peakPerSecond() {
    return (double) peakInWindow / peakWindowSeconds;
  }

  /** The most arrivals in any window of a fixed length ending at an arrival; memory holds one window. */
  private static final class SlidingCount {
    private final long window;
    private long[] times = new long[64];
    private int head;
    private int size;
    long max;

    SlidingCount(long window) {
      this.window = window;
    }

    void add(long t) {
      while (size > 0 && times[head] <= t - window) {
        head = (head + 1) % times.length;
        size--;
      }
      if (size == times.length) {
        long[] grown = new long[times.length * 2];
        for (int i = 0; i < size; i++) {
          grown[i] = times[(head + i) % times.length];
        }
        times = grown;
        head = 0;
      }
      times[(head + size) % times.length] = t;
      size++;
      max = Math.max(max, size);
    }
  }

  /** Seconds from the first request to the last. */
  public double spanSeconds() {
    return (lastNanos - firstNanos) / 1e9;
  }

  /** Requests per second over the span; NaN with fewer than two requests. */
  public double meanPerSecond() {
    return requests >= 2 && lastNanos > firstNanos ? (requests - 1) / spanSeconds() : Double.NaN;
  }

  /** The canonical model a requested name stands for in the trace's own table, if it has one. */
  public String canonical(String asked) {
    return header.models().flatMap(t -> t.find(asked)).map(ModelSpec::name).orElse("?");
  }
}
