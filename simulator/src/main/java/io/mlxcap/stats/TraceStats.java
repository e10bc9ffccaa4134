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
 * @param peakPerMinute the most requests in one 60-second window aligned to the trace's start
 * @param interArrivalCv standard deviation over mean of the gaps between requests: 1 for Poisson
 *     arrivals, above 1 for bursty ones, NaN with fewer than three requests
 */
public record TraceStats(
    TraceHeader header,
    long requests,
    Map<String, Long> perModel,
    long firstNanos,
    long lastNanos,
    long peakPerMinute,
    double meanGapSeconds,
    double interArrivalCv,
    double meanPromptTokens,
    double meanOutputTokens,
    Map<String, Long> loads,
    Map<String, Long> evictions,
    Map<String, Long> outcomes,
    ReadReport report) {

  private static final long MINUTE = 60_000_000_000L;

  /** Reads every event of {@code reader} and returns the statistics. */
  public static TraceStats of(TraceReader reader) {
    long requests = 0;
    Map<String, Long> perModel = new TreeMap<>();
    Map<String, Long> loads = new TreeMap<>();
    Map<String, Long> evictions = new TreeMap<>();
    Map<String, Long> outcomes = new TreeMap<>();
    long first = 0;
    long last = 0;
    long bin = -1;
    long inBin = 0;
    long peak = 0;
    double gapMean = 0;
    double gapM2 = 0;
    long gaps = 0;
    long promptSum = 0;
    long promptCount = 0;
    long outputSum = 0;
    long outputCount = 0;
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
        long b = (t - first) / MINUTE;
        if (b != bin) {
          bin = b;
          inBin = 0;
        }
        peak = Math.max(peak, ++inBin);
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
      }
    }
    double cv = gaps >= 2 && gapMean > 0 ? Math.sqrt(gapM2 / (gaps - 1)) / gapMean : Double.NaN;
    return new TraceStats(reader.header(), requests, perModel, first, last, peak, gaps > 0 ? gapMean : Double.NaN, cv,
        promptCount > 0 ? (double) promptSum / promptCount : Double.NaN,
        outputCount > 0 ? (double) outputSum / outputCount : Double.NaN, loads, evictions, outcomes, reader.report());
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
