package io.mlxcap.trace;

import static io.mlxcap.trace.TraceRoundTripTest.reader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.trace.TraceEvent.Request;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class TraceReaderErrorsTest {
  private static final String GOOD = "{\"type\":\"request\",\"t_ms\":1,\"model\":\"fast\"}\n";

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "{\"type\":\"request\",\"t_ms\":2,\"model\":\"fast\" | t.jsonl line 2: not valid JSON: Unexpected end-of-input",
    "[1,2] | t.jsonl line 2: expected a JSON object",
    "{\"t_ms\":2,\"model\":\"fast\"} | t.jsonl line 2: no \"type\" field",
    "{\"type\":\"request\",\"model\":\"fast\"} | t.jsonl line 2: a request event needs \"t_ms\"",
    "{\"type\":\"request\",\"t_ms\":2} | t.jsonl line 2: a request event needs \"model\"",
    "{\"type\":\"request\",\"t_ms\":\"soon\",\"model\":\"fast\"} | t.jsonl line 2: \"t_ms\" must be a number of milliseconds",
    "{\"type\":\"request\",\"t_ms\":-3,\"model\":\"fast\"} | t.jsonl line 2: \"t_ms\" must be >= 0, was -3",
    "{\"type\":\"request\",\"t_ms\":2,\"model\":\"fast\",\"prompt_tokens\":-5} | t.jsonl line 2: \"prompt_tokens\" must be >= 0, was -5",
    "{\"type\":\"request\",\"t_ms\":2,\"model\":\"fast\",\"prompt_tokens\":2.5} | t.jsonl line 2: \"prompt_tokens\" must be a whole number",
    "{\"type\":\"request\",\"t_ms\":2,\"model\":7} | t.jsonl line 2: \"model\" must be a string",
    "{\"type\":\"request\",\"t_ms\":2,\"model\":\"fast\",\"keep_alive_ms\":-2} | t.jsonl line 2: \"keep_alive_ms\" must be milliseconds >= 0, or -1 for forever, was -2",
    "{\"type\":\"request\",\"t_ms\":0.5,\"model\":\"fast\"} | t.jsonl line 2: this request (t_ms 0.5) is earlier than the one before it (t_ms 1); requests must be in time order",
    "{\"type\":\"evict\",\"t_ms\":2,\"model\":\"fast\",\"reason\":\"boredom\"} | t.jsonl line 2: unknown reason 'boredom'; known: max_models, cleanup, idle_ttl, pressure, budget, manual",
    "{\"type\":\"request_done\",\"t_ms\":2,\"id\":\"r\",\"status\":\"meh\"} | t.jsonl line 2: unknown status 'meh'; known: ok, error, rejected, cancelled",
    "{\"type\":\"load\",\"t_ms\":2,\"model\":\"fast\",\"cause\":\"whim\"} | t.jsonl line 2: unknown cause 'whim'; known: request, preload, manual",
    "{\"type\":\"header\"} | t.jsonl line 2: a header may only be the first line",
    "{\"type\":\"request\",\"t_ms\":2,\"model\":\"fast\"} {\"x\":1} | t.jsonl line 2: more than one JSON value on the line",
  })
  void strict_malformedLine_failsWithLineNumberAndReason(String line, String message) {
    try (TraceReader reader = reader(GOOD + line + "\n" + GOOD.replace("\"t_ms\":1", "\"t_ms\":9"), TraceReader.Mode.STRICT)) {
      assertEquals(1, ((Request) reader.next()).timeNanos() / 1_000_000);
      TraceFormatException e = assertThrows(TraceFormatException.class, reader::next);
      assertTrue(e.getMessage().startsWith(message.strip()), e.getMessage());
      assertEquals(2, e.lineNumber());
    }
  }

  @Test
  void lenient_skipsAndCountsMalformedLines() {
    String text = GOOD + "garbage\n" + "{\"type\":\"request\"}\n" + GOOD.replace("\"t_ms\":1", "\"t_ms\":3");
    try (TraceReader reader = reader(text, TraceReader.Mode.LENIENT)) {
      assertEquals(2, reader.events().count());
      ReadReport report = reader.report();
      assertEquals(2, report.skipped());
      assertEquals(List.of(
          "line 2: not valid JSON: Unrecognized token 'garbage': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
          "line 3: a request event needs \"t_ms\""), report.skippedExamples());
      assertTrue(report.describe().startsWith("skipped 2 malformed lines (line 2: not valid JSON"), report.describe());
    }
  }

  @Test
  void tornLastLine_fromACrash_isToleratedInStrictMode() {
    String text = GOOD + GOOD.replace("\"t_ms\":1", "\"t_ms\":2") + "{\"type\":\"request\",\"t_ms\":3,\"mo";
    try (TraceReader reader = reader(text, TraceReader.Mode.STRICT)) {
      assertEquals(2, reader.events().count());
      ReadReport report = reader.report();
      assertEquals(Optional.of("not valid JSON: Unexpected end-of-input in field name"), report.tornLastLine());
      assertEquals(3, report.lines());
      assertTrue(report.describe().startsWith("the last line was cut off (not valid JSON"), report.describe());
    }
  }

  @Test
  void lastLineWithoutNewline_thatParses_isAnEvent() {
    try (TraceReader reader = reader(GOOD.strip(), TraceReader.Mode.STRICT)) {
      assertEquals(1, reader.events().count());
      assertEquals(Optional.empty(), reader.report().tornLastLine());
    }
  }

  @Test
  void badHeader_strict_failsOnLineOne() {
    TraceFormatException e = assertThrows(TraceFormatException.class,
        () -> reader("{\"type\":\"header\",\"version\":2}\n" + GOOD, TraceReader.Mode.STRICT));
    assertEquals("t.jsonl line 1: trace version 2 is not supported; this mlxcap reads version 1", e.getMessage());
    TraceFormatException models = assertThrows(TraceFormatException.class,
        () -> reader("{\"type\":\"header\",\"models\":[{\"name\":\"x\"}]}\n", TraceReader.Mode.STRICT));
    assertEquals("t.jsonl line 1: header models: models[0]: \"size\" is missing", models.getMessage());
  }

  @Test
  void missingFile_oneSentence(@TempDir Path dir) {
    InvalidInputException e = assertThrows(InvalidInputException.class,
        () -> TraceReader.open(dir.resolve("nope.jsonl"), TraceReader.Mode.STRICT));
    assertEquals("trace " + dir.resolve("nope.jsonl") + " does not exist", e.getMessage());
  }

  @Test
  void emptyInput_noEvents() {
    try (TraceReader reader = reader("", TraceReader.Mode.STRICT)) {
      assertEquals(List.of(), reader.events().collect(Collectors.toList()));
      assertEquals(0, reader.report().lines());
    }
  }
}
