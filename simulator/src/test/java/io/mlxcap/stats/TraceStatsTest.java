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
    assertEquals(3, s.peakPerMinute(), "three in the first minute, one in the second");
    // gaps 1, 2, 58 s: mean 20.33, sample sd 32.9
    assertEquals(61 / 3.0, s.meanGapSeconds(), 1e-9);
    assertEquals(Math.sqrt(((1 - 61 / 3.0) * (1 - 61 / 3.0) + (2 - 61 / 3.0) * (2 - 61 / 3.0)
        + (58 - 61 / 3.0) * (58 - 61 / 3.0)) / 2) / (61 / 3.0), s.interArrivalCv(), 1e-9);
    assertEquals(200, s.meanPromptTokens());
    assertEquals(10, s.meanOutputTokens());
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
}
