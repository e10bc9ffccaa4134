package io.mlxcap.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceEvent.End;
import io.mlxcap.trace.TraceEvent.Evict;
import io.mlxcap.trace.TraceEvent.Load;
import io.mlxcap.trace.TraceEvent.LoadFailed;
import io.mlxcap.trace.TraceEvent.LoadStart;
import io.mlxcap.trace.TraceEvent.Memory;
import io.mlxcap.trace.TraceEvent.Request;
import io.mlxcap.trace.TraceEvent.RequestDone;
import io.mlxcap.trace.TraceEvent.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

final class TraceRoundTripTest {
  private static final long U = TraceEvent.UNKNOWN;

  static final List<TraceEvent> EVERY_KIND = List.of(
      new LoadStart(0, "phi3.5:3.8b", LoadCause.PRELOAD, 2_750_000_000L),
      new Load(1_250_000_000L, "phi3.5:3.8b", LoadCause.PRELOAD, 2_700_000_123L, 1_250_000_000L),
      new Request(2_000_000_000L, "r1", "default", 812, 256, 200, U),
      new LoadStart(2_000_100_000L, "qwen2.5-coder:32b", LoadCause.REQUEST, 22_500_000_000L),
      new Evict(2_000_100_000L, "phi3.5:3.8b", 2_700_000_123L, EvictionReason.MAX_MODELS),
      new LoadFailed(3_000_000_000L, "qwen2.5-coder:32b", LoadCause.REQUEST, 999_999_999L, "corrupt \"weights\"\n"),
      new RequestDone(3_000_000_001L, "r1", Status.ERROR, 0, 1_000_000_001L, U, U, "corrupt weights"),
      new Request(4_000_000_000L, "r2", "fast", 12, U, U, 123_456_789L),
      new Request(4_000_000_000L, "r3", "fast", 12, U, U, U, 0),
      new Request(4_000_000_000L, "r4", "fast", 12, U, U, U, 300_000_000_000L),
      new Request(4_000_000_000L, "r5", "fast", 12, U, U, U, TraceEvent.KEEP_ALIVE_FOREVER),
      new RequestDone(5_000_000_000L, "r2", Status.OK, 1_000, 2, 3, 40, null),
      new Memory(5_500_000_000L, 3_100_000_000L, 40_000_000_000L, 137_438_953_472L),
      new TraceEvent.Tick(5_000_210_001L),
      new End(6_000_000_000L));

  static String write(TraceHeader header, List<TraceEvent> events) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TraceWriter writer = TraceWriter.to(bytes, header)) {
      events.forEach(writer::write);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  static TraceReader reader(String text, TraceReader.Mode mode) {
    return TraceReader.of(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "t.jsonl", mode);
  }

  @Test
  void everyEventKind_roundTrips() {
    ModelTable table = ModelTable.defaults();
    TraceHeader header = new TraceHeader(Optional.of("2026-11-27T10:00:00Z"), Optional.of("test"),
        128L << 30, 8, Settings.defaults(table).toEnv(), Optional.of(table));
    String text = write(header, EVERY_KIND);
    try (TraceReader reader = reader(text, TraceReader.Mode.STRICT)) {
      assertEquals(header, reader.header());
      assertEquals(EVERY_KIND, reader.events().collect(Collectors.toList()));
      ReadReport report = reader.report();
      assertEquals(16, report.lines());
      assertEquals(15, report.events());
      assertTrue(report.ended());
      assertEquals("", report.describe());
    }
  }

  @Test
  void lines_lookAsDocumented() {
    String text = write(TraceHeader.empty(), List.of(
        new Request(1_500_000_000L, "r1", "fast", 812, 256, U, U),
        new Request(1_500_000_000L, "r2", "fast", 8, U, U, U, 0),
        new Request(1_500_000_000L, "r3", "fast", 8, U, U, U, TraceEvent.KEEP_ALIVE_FOREVER),
        new Evict(2_000_000L, "phi3.5:3.8b", 2_750_000_000L, EvictionReason.IDLE_TTL),
        new RequestDone(2_500_000L, "r1", Status.OK, 0, 12_250_000L, 2_000_000_000L, 200, null)));
    assertEquals("""
        {"type":"header","format":"mlxcap-trace","version":1}
        {"type":"request","t_ms":1500,"id":"r1","model":"fast","prompt_tokens":812,"max_tokens":256}
        {"type":"request","t_ms":1500,"id":"r2","model":"fast","prompt_tokens":8,"keep_alive_ms":0}
        {"type":"request","t_ms":1500,"id":"r3","model":"fast","prompt_tokens":8,"keep_alive_ms":-1}
        {"type":"evict","t_ms":2,"model":"phi3.5:3.8b","reason":"idle_ttl","bytes":2750000000}
        {"type":"request_done","t_ms":2.5,"id":"r1","status":"ok","queue_ms":0,"load_wait_ms":12.25,"service_ms":2000,"output_tokens":200}
        """, text);
  }

  @Test
  void formatMillis_exactToTheNanosecond() {
    assertEquals("0", TraceCodec.formatMillis(0));
    assertEquals("0.000001", TraceCodec.formatMillis(1));
    assertEquals("12.25", TraceCodec.formatMillis(12_250_000));
    assertEquals("86400000.123456", TraceCodec.formatMillis(86_400_000_123_456L));
  }

  @Test
  void parseMillis_exactDecimal_orMinusOneToFallBack() {
    assertEquals(0, TraceCodec.parseMillis("0".toCharArray(), 0, 1));
    assertEquals(1_500_000_000L, TraceCodec.parseMillis("1500".toCharArray(), 0, 4));
    assertEquals(4_314_579_000L, TraceCodec.parseMillis("4314.579".toCharArray(), 0, 8));
    assertEquals(86_400_000_123_456L, TraceCodec.parseMillis("86400000.123456".toCharArray(), 0, 15));
    assertEquals(1, TraceCodec.parseMillis("0.0000005".toCharArray(), 0, 9), "rounds past the sixth decimal");
    assertEquals(0, TraceCodec.parseMillis("0.0000004".toCharArray(), 0, 9));
    for (String other : new String[] {"-3", "1e3", "1.5E2", "", ".5", "9999999999999"}) {
      assertEquals(-1, TraceCodec.parseMillis(other.toCharArray(), 0, other.length()), other);
    }
    String text = "{\"type\":\"request\",\"t_ms\":1.5e3,\"model\":\"fast\"}\n";
    try (TraceReader reader = reader(text, TraceReader.Mode.STRICT)) {
      assertEquals(1_500_000_000L, reader.next().timeNanos(), "exponents still read, through a double");
    }
  }

  @Test
  void requestLinesAlone_areATrace_withDefaults() {
    String text = """
        {"type":"request","t_ms":0,"model":"fast"}
        {"t_ms":10.5,"type":"request","model":"default","prompt_tokens":100,"id":7}
        """;
    try (TraceReader reader = reader(text, TraceReader.Mode.STRICT)) {
      assertEquals(TraceHeader.empty(), reader.header());
      assertEquals(List.of(
              new Request(0, "line-1", "fast", U, U, U, U),
              new Request(10_500_000, "7", "default", 100, U, U, U)),
          reader.events().collect(Collectors.toList()));
      assertFalse(reader.report().ended());
    }
  }

  @Test
  void unknownTypesAndFields_areIgnored() {
    String text = """
        {"type":"header","version":1,"future":{"a":[1,2]}}
        {"type":"gpu_sample","t_ms":1,"util":0.5}
        {"type":"request","t_ms":2,"model":"fast","priority":"high","tags":["x",{"y":1}]}

        """;
    try (TraceReader reader = reader(text, TraceReader.Mode.STRICT)) {
      assertEquals(List.of(new Request(2_000_000, "line-3", "fast", U, U, U, U)),
          reader.events().collect(Collectors.toList()));
      assertEquals(1, reader.report().unknownTypes());
      assertEquals("ignored 1 line of event types this version does not know.", reader.report().describe());
    }
  }

  @Test
  void crlfAndLongLines_read() {
    String longModel = "m".repeat(3 << 20);
    String text = "{\"type\":\"request\",\"t_ms\":1,\"model\":\"fast\"}\r\n"
        + "{\"type\":\"request\",\"t_ms\":2,\"model\":\"" + longModel + "\"}\r\n";
    try (TraceReader reader = reader(text, TraceReader.Mode.STRICT)) {
      List<TraceEvent> events = reader.events().collect(Collectors.toList());
      assertEquals(2, events.size());
      assertEquals(longModel, ((Request) events.get(1)).model());
    }
  }
}
