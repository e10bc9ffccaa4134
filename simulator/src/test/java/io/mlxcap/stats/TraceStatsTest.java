package io.mlxcap.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.trace.TraceReader;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class TraceStatsTest {

  private static TraceStats stats(String text) {
    try (TraceReader reader = TraceReader.of(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "t",
        TraceReader.Mode.STRICT)) {
      return TraceStats.of(reader);
    }
  }

  @Test
  void countsSharesRatesAndCv() {
    TraceStats s = stats("""
        {"type":"header","models":[{"name":"phi3.5:3.8b","aliases":["fast"],"size":3}]}
        {"type":"request","t_ms":0,"model":"fast","prompt_tokens":100,"output_tokens":10}
        {"type":"request","t_ms":1000,"model":"fast","prompt_tokens":300}
        {"type":"request","t_ms":3000,"model":"other"}
        {"type":"load","t_ms":3100,"model":"phi3.5:3.8b","bytes":3,"duration_ms":5}
        {"type":"evict","t_ms":3200,"model":"phi3.5:3.8b","reason":"cleanup"}
        {"type":"request_done","t_ms":3300,"id":"x","status":"ok"}
        {"type":"request","t_ms":61000,"model":"fast"}
        """);
    assertEquals(4, s.requests());
    assertEquals(Map.of("fast", 3L, "other", 1L), s.perModel());
    assertEquals(61.0, s.spanSeconds());
    assertEquals(3 / 61.0, s.meanPerSecond(), 1e-12);
    assertEquals(60, s.peakWindowSeconds());
    assertEquals(3, s.peakInWindow(), "three within a minute of each other");
    // gaps 1, 2, 58 s: mean 20.33, sample sd 32.9
    assertEquals(61 / 3.0, s.meanGapSeconds(), 1e-9);
    assertEquals(Math.sqrt(((1 - 61 / 3.0) * (1 - 61 / 3.0) + (2 - 61 / 3.0) * (2 - 61 / 3.0)
        + (58 - 61 / 3.0) * (58 - 61 / 3.0)) / 2) / (61 / 3.0), s.interArrivalCv(), 1e-9);
    assertEquals(200, s.meanPromptTokens());
    assertEquals(10, s.meanOutputTokens(), "no outcome reports tokens: the request lines'");
    assertEquals(3, s.withoutOutcome(), "one request_done for four requests");
    assertEquals(Map.of("request", 1L), s.loads());
    assertEquals(Map.of("cleanup", 1L), s.evictions());
    assertEquals(Map.of("ok", 1L), s.outcomes());
    assertEquals("phi3.5:3.8b", s.canonical("fast"));
    assertEquals("?", s.canonical("other"));
  }

  @Test
  void oneRequest_noRatesButNoFailure() {
    TraceStats s = stats("{\"type\":\"request\",\"t_ms\":5,\"model\":\"fast\"}\n");
    assertEquals(1, s.requests());
    assertTrue(Double.isNaN(s.meanPerSecond()));
    assertTrue(Double.isNaN(s.interArrivalCv()));
  }

  @Test
  void peak_slidesAcrossMinuteBoundaries() {
    StringBuilder text = new StringBuilder("{\"type\":\"request\",\"t_ms\":0,\"model\":\"m\"}\n");
    for (int i = 0; i < 10; i++) {
      text.append("{\"type\":\"request\",\"t_ms\":").append(55_000 + i * 1_000).append(",\"model\":\"m\"}\n");
    }
    text.append("{\"type\":\"request\",\"t_ms\":200000,\"model\":\"m\"}\n");
    TraceStats s = stats(text.toString());
    // Minutes aligned to the start would see 6 and 5; ten arrive within ten seconds.
    assertEquals(10, s.peakInWindow());
    assertEquals(10 / 60.0, s.peakPerSecond(), 1e-12);
  }

  // Issue 8: a 13-second recording printed "output mean NaN" and a peak rate below its mean rate.
  @Test
  void shortRecording_outcomeTokensSecondWindowAndMissingOutcomes() {
    TraceStats s = stats("""
        {"type":"request","t_ms":0,"id":"a","model":"fast","prompt_tokens":3,"max_tokens":32}
        {"type":"request","t_ms":400,"id":"b","model":"fast","prompt_tokens":3,"max_tokens":32}
        {"type":"request_done","t_ms":500,"id":"a","status":"ok","output_tokens":20}
        {"type":"request","t_ms":700,"id":"c","model":"fast","max_tokens":32}
        {"type":"request_done","t_ms":900,"id":"b","status":"ok","output_tokens":30}
        {"type":"request","t_ms":5000,"id":"d","model":"fast","max_tokens":32}
        {"type":"request","t_ms":13000,"id":"e","model":"fast","max_tokens":32}
        """);
    assertEquals(25, s.meanOutputTokens(), "what the requests produced, not what they asked for");
    assertTrue(s.outputFromOutcomes());
    assertEquals(1, s.peakWindowSeconds(), "a minute window does not fit a 13-second trace");
    assertEquals(3, s.peakInWindow());
    assertTrue(s.peakPerSecond() > s.meanPerSecond(), s.peakPerSecond() + " vs " + s.meanPerSecond());
    assertEquals(3, s.withoutOutcome(), "c, d and e never got a request_done");
  }
}
