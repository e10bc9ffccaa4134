package io.mlxcap.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The reader finds every line end, eight bytes at a time or one: lines of every length, so their ends
 * fall at every offset of a word, with CRLF or LF, a last line with or without its newline, read from a
 * stream that hands out a few bytes at a time (lines cut across every refill).
 */
final class TraceReaderLinesTest {

  @Provide
  Arbitrary<List<TraceEvent.Request>> requests() {
    Arbitrary<TraceEvent.Request> one = Combinators.combine(
        Arbitraries.longs().between(0, 1L << 40),
        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(40),
        Arbitraries.of("fast", "m7", "qwen2.5-coder:32b"),
        Arbitraries.longs().between(-1, 99_999))
        .as((t, id, model, n) -> new TraceEvent.Request(t, id, model, n, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
            TraceEvent.UNKNOWN));
    return one.list().ofMaxSize(60).map(list -> {
      List<TraceEvent.Request> sorted = new ArrayList<>(list);
      sorted.sort(java.util.Comparator.comparingLong(TraceEvent.Request::timeNanos));
      return sorted;
    });
  }

  @Property(tries = 500)
  void everyLineIsRead(@ForAll("requests") List<TraceEvent.Request> requests, @ForAll boolean crlf,
      @ForAll boolean lastNewline, @ForAll @IntRange(min = 1, max = 23) int chunk) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    TraceCodec codec = new TraceCodec();
    for (int i = 0; i < requests.size(); i++) {
      byte[] line = codec.encode(requests.get(i));
      bytes.write(line, 0, line.length - 1);
      if (i < requests.size() - 1 || lastNewline) {
        bytes.write(crlf ? "\r\n".getBytes() : "\n".getBytes());
      }
    }
    InputStream trickle = new ByteArrayInputStream(bytes.toByteArray()) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, chunk));
      }
    };
    List<TraceEvent> read = new ArrayList<>();
    try (TraceReader reader = TraceReader.of(trickle, "t", TraceReader.Mode.STRICT)) {
      for (TraceEvent e = reader.next(); e != null; e = reader.next()) {
        read.add(e);
      }
    }
    assertEquals(requests, read);
  }
}
