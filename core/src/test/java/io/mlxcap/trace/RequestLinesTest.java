package io.mlxcap.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Combinators;
import org.junit.jupiter.api.Test;

/**
 * The request-line fast path gives the full parser's answer or none: on every request line of the
 * committed traces, on random requests as the writer writes them, and on lines the writer would not
 * write (which it leaves to the full parser).
 */
final class RequestLinesTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  private static TraceEvent full(byte[] line) throws Exception {
    return new TraceCodec().decodeFully(line, 0, line.length, 1);
  }

  @Test
  void committedTraces_everyRequestLineTakesTheFastPath_withTheFullParsersAnswer() throws Exception {
    long checked = 0;
    for (String trace : List.of("traces/samples/seed-scenario.jsonl", "traces/samples/recorded-cap2.jsonl",
        "traces/public/azure-2023-code-conv.jsonl", "traces/public/mooncake-conversation.jsonl")) {
      RequestLines fast = new RequestLines();
      try (Stream<String> lines = Files.lines(REPO.resolve(trace))) {
        for (String text : (Iterable<String>) lines::iterator) {
          byte[] line = text.getBytes(StandardCharsets.UTF_8);
          if (!text.startsWith("{\"type\":\"request\",\"t_ms\":")) {
            continue;
          }
          TraceEvent.Request decoded = fast.decode(line, 0, line.length);
          assertNotNull(decoded, trace + ": the writer's own layout: " + text);
          assertEquals(full(line), decoded, text);
          checked++;
        }
      }
    }
    assertTrue(checked > 40_000, "request lines checked: " + checked);
  }

  @Provide
  Arbitrary<TraceEvent.Request> requests() {
    Arbitrary<Long> times = Arbitraries.oneOf(Arbitraries.longs().between(0, 10_000_000_000_000L),
        Arbitraries.longs().between(0, 5_000).map(ms -> ms * 1_000_000L));
    Arbitrary<String> ids = Arbitraries.oneOf(Arbitraries.strings().alpha().numeric().withChars("-_:.").ofMaxLength(12),
        Arbitraries.strings().withChars("a\"\\é€\n\t ").ofMaxLength(4));
    Arbitrary<String> models = Arbitraries.oneOf(Arbitraries.of("fast", "default", "qwen2.5-coder:32b", "m007"),
        Arbitraries.strings().withChars("ab\\\"é").ofMinLength(1).ofMaxLength(3));
    Arbitrary<Long> counts = Arbitraries.oneOf(Arbitraries.just(TraceEvent.UNKNOWN), Arbitraries.longs().between(0, 1L << 40));
    Arbitrary<Long> service = Arbitraries.oneOf(Arbitraries.just(TraceEvent.UNKNOWN),
        Arbitraries.longs().between(0, 1L << 45));
    return Combinators.combine(times, ids, models, counts, counts, counts, service)
        .as(TraceEvent.Request::new);
  }

  @Property(tries = 2000)
  void writtenRequests_readBackTheSame_fastOrNot(@ForAll("requests") TraceEvent.Request request) throws Exception {
    byte[] written = new TraceCodec().encode(request);
    byte[] line = java.util.Arrays.copyOf(written, written.length - 1); // the reader strips the newline
    TraceEvent.Request fast = new RequestLines().decode(line, 0, line.length);
    TraceEvent full = full(line);
    assertEquals(request, full);
    boolean plain = (request.id() + request.model()).chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
        && !request.model().isEmpty();
    if (plain) {
      assertEquals(request, fast, "plain ASCII strings take the fast path");
    } else {
      assertNull(fast, "escapes and non-ASCII go to the full parser");
    }
  }

  @Test
  void linesTheWriterWouldNotWrite_goToTheFullParser() {
    String[] lines = {
      "{\"type\":\"request\", \"t_ms\":1,\"id\":\"a\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":1e3,\"id\":\"a\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":01,\"id\":\"a\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":1.,\"id\":\"a\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":-1,\"id\":\"a\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":1,\"model\":\"m\",\"id\":\"a\"}",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"m\",\"prompt_tokens\":null}",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"m\",\"extra\":1}",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"m\"}\r",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"m\"} ",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"m\"",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\\u0041\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"\"}",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"m\",\"prompt_tokens\":1234567890123456789}",
      "{\"type\":\"request\",\"t_ms\":1234567890123,\"id\":\"a\",\"model\":\"m\"}",
      "{\"type\":\"request\",\"t_ms\":1,\"id\":7,\"model\":\"m\"}",
    };
    for (String text : lines) {
      byte[] line = text.getBytes(StandardCharsets.UTF_8);
      assertNull(new RequestLines().decode(line, 0, line.length), text);
    }
    byte[] ok = "{\"type\":\"request\",\"t_ms\":0.0000015,\"id\":\"a\",\"model\":\"m\",\"max_tokens\":0,\"service_ms\":2}"
        .getBytes(StandardCharsets.UTF_8);
    TraceEvent.Request r = new RequestLines().decode(ok, 0, ok.length);
    assertEquals(new TraceEvent.Request(2, "a", "m", TraceEvent.UNKNOWN, 0, TraceEvent.UNKNOWN, 2_000_000), r,
        "past the sixth decimal: rounded by the seventh, as the full parser does");
  }

  // Names are interned by their bytes: the same name is the same String; names that share a hash
  // slot stay apart; past the table's room every name is still read right, only not interned.
  @Test
  void modelNames_internedByTheirBytes_andRightPastTheTablesRoom() {
    RequestLines lines = new RequestLines();
    java.util.Map<String, String> first = new java.util.HashMap<>();
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 2000; i++) {
        String model = "m" + i;
        byte[] line = ("{\"type\":\"request\",\"t_ms\":1,\"id\":\"a\",\"model\":\"" + model + "\"}")
            .getBytes(StandardCharsets.UTF_8);
        String read = lines.decode(line, 0, line.length).model();
        assertEquals(model, read);
        if (round == 0) {
          first.put(model, read);
        } else if (i < 100) {
          assertTrue(first.get(model) == read, "interned: " + model);
        }
      }
    }
  }
}
