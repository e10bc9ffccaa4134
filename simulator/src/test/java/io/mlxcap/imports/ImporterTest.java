package io.mlxcap.imports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.imports.Importer.Fields;
import io.mlxcap.imports.Importer.Input;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceEvent.Request;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ImporterTest {
  private static final long U = TraceEvent.UNKNOWN;
  private static final Fields AZURE_LIKE =
      new Fields("TIMESTAMP", TimeFormat.ISO, null, null, "ContextTokens", "GeneratedTokens", null, 1);

  @TempDir Path dir;

  private Path file(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  private Importer importer(InputFormat format, Fields fields, Map<String, String> map, Importer.Order order) {
    return new Importer(format, fields, map, Map.of(), ModelTable.defaults(), order, "test");
  }

  private List<TraceEvent> read(Path trace) {
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      return reader.events().collect(Collectors.toList());
    }
  }

  @Test
  void twoLabelledCsvInputs_mergedByTime_labelsMappedOntoModels() throws IOException {
    Path code = file("code.csv", """
        TIMESTAMP,ContextTokens,GeneratedTokens
        2023-11-16 18:17:03.9799600,4808,10
        2023-11-16 18:17:05.0000000,3180,8
        """);
    Path conv = file("conv.csv", """
        TIMESTAMP,ContextTokens,GeneratedTokens
        2023-11-16 18:17:04.5000000,374,44
        """);
    Path out = dir.resolve("out.jsonl");
    Importer.Summary summary = importer(InputFormat.CSV, AZURE_LIKE, Map.of("code", "default", "conv", "fast"),
        Importer.Order.SORT).run(List.of(new Input("code", code), new Input("conv", conv)), out);
    assertEquals(3, summary.requests());
    assertEquals(Map.of("default", 2L, "fast", 1L), summary.perModel());
    assertEquals(Optional.of("2023-11-16T18:17:03.979960Z"), summary.startedAt());
    assertEquals(List.of(
        new Request(0, "code-2", "default", 4808, U, 10, U),
        new Request(520_040_000L, "conv-2", "fast", 374, U, 44, U),
        new Request(1_020_040_000L, "code-3", "default", 3180, U, 8, U)), read(out));
    try (TraceReader reader = TraceReader.open(out, TraceReader.Mode.STRICT)) {
      TraceHeader header = reader.header();
      assertEquals(Optional.of(ModelTable.defaults()), header.models());
      assertEquals(Optional.of("test"), header.source());
    }
  }

  @Test
  void modelColumn_latency_quotedFields_andSizedUnknownModels() throws IOException {
    Path log = file("log.csv", """
        ts,"model name",in,out,latency_s
        10,"my-model",5,6,0.25
        12,fast,7,8,1.5
        """);
    Path out = dir.resolve("out.jsonl");
    Fields fields = new Fields("ts", TimeFormat.OFFSET_S, "model name", null, "in", "out", "latency_s", 1000);
    new Importer(InputFormat.CSV, fields, Map.of(), Map.of("my-model", SizeRange.between(1_000_000_000L, 3_000_000_000L)),
        ModelTable.defaults(), Importer.Order.REJECT, "t").run(List.of(new Input("log", log)), out);
    assertEquals(List.of(
        new Request(10_000_000_000L, "log-2", "my-model", 5, U, 6, 250_000_000L),
        new Request(12_000_000_000L, "log-3", "fast", 7, U, 8, 1_500_000_000L)), read(out));
  }

  @Test
  void sizedModelWithABadName_oneSentence() throws IOException {
    Path log = file("bad.csv", "ts,m\n1,\"a,b\"\n");
    Fields fields = new Fields("ts", TimeFormat.OFFSET_S, "m", null, null, null, null, 1);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> new Importer(InputFormat.CSV, fields,
        Map.of(), Map.of("a,b", SizeRange.exactly(1)), ModelTable.defaults(), Importer.Order.SORT, "t")
        .run(List.of(new Input("bad", log)), dir.resolve("out.jsonl")));
    assertEquals("--size a,b: a model name must not contain a comma (MLX_PRELOAD_MODELS separates names with commas),"
        + " was 'a,b'", e.getMessage());
  }

  @Test
  void jsonl_fieldMapping() throws IOException {
    Path log = file("m.jsonl", """
        {"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1]}
        {"timestamp": 27, "input_length": 7322, "output_length": 490, "hash_ids": [0, 14]}
        """);
    Path out = dir.resolve("out.jsonl");
    Fields fields = new Fields("timestamp", TimeFormat.OFFSET_MS, null, "reasoning", "input_length", "output_length", null, 1);
    importer(InputFormat.JSONL, fields, Map.of(), Importer.Order.SORT).run(List.of(new Input("m", log)), out);
    assertEquals(List.of(
        new Request(0, "m-1", "reasoning", 6758, U, 500, U),
        new Request(27_000_000, "m-2", "reasoning", 7322, U, 490, U)), read(out));
  }

  @Test
  void rowsOutOfOrder_sortedByDefault_refusedOnRequest() throws IOException {
    Path log = file("late.csv", "t,p\n5,1\n3,2\n");
    Fields fields = new Fields("t", TimeFormat.OFFSET_S, null, "fast", "p", null, null, 1);
    Path out = dir.resolve("out.jsonl");
    importer(InputFormat.CSV, fields, Map.of(), Importer.Order.SORT).run(List.of(new Input("late", log)), out);
    assertEquals(List.of(3_000_000_000L, 5_000_000_000L), read(out).stream().map(TraceEvent::timeNanos).toList());
    InvalidInputException e = assertThrows(InvalidInputException.class,
        () -> importer(InputFormat.CSV, fields, Map.of(), Importer.Order.REJECT).run(List.of(new Input("late", log)), out));
    assertEquals("late.csv line 3 is earlier than line 2; rows must be in time order (or import with --order sort)",
        e.getMessage());
  }

  private String error(InputFormat format, String name, String text, Fields fields) throws IOException {
    Path log = file(name, text);
    return assertThrows(InvalidInputException.class, () -> importer(format, fields, Map.of(), Importer.Order.SORT)
        .run(List.of(new Input("x", log)), dir.resolve("out.jsonl"))).getMessage();
  }

  @Test
  void badInput_oneSentenceWithFileAndLine() throws IOException {
    Fields fields = new Fields("t", TimeFormat.OFFSET_S, null, "fast", "p", "o", null, 1);
    assertEquals("a.csv has no column 'o'; its columns are t, p",
        error(InputFormat.CSV, "a.csv", "t,p\n1,2\n", fields));
    assertEquals("b.csv line 3: cannot read time 'noon' as offset-s (a number)",
        error(InputFormat.CSV, "b.csv", "t,p,o\n1,2,3\nnoon,2,3\n", fields));
    assertEquals("c.csv line 2: 'p' is -4; token counts cannot be negative",
        error(InputFormat.CSV, "c.csv", "t,p,o\n1,-4,3\n", fields));
    assertEquals("d.csv line 2: 'o' is 'many', not a whole number of tokens",
        error(InputFormat.CSV, "d.csv", "t,p,o\n1,4,many\n", fields));
    assertEquals("e.csv line 2: no value in 'o'",
        error(InputFormat.CSV, "e.csv", "t,p,o\n1,4,\n", fields));
    assertEquals("f.jsonl line 2: no value in 'o'",
        error(InputFormat.JSONL, "f.jsonl", "{\"t\":1,\"p\":2,\"o\":3}\n{\"t\":2,\"p\":2}\n", fields));
    assertEquals("g.jsonl line 1: not valid JSON: Unexpected end-of-input: expected close marker for Object",
        error(InputFormat.JSONL, "g.jsonl", "{\"t\":1\n", fields));
    assertEquals("h.csv line 2: a quoted field is not closed",
        error(InputFormat.CSV, "h.csv", "t,p,o\n1,\"2,3\n", fields));
    assertEquals("the input has no rows to import",
        error(InputFormat.CSV, "i.csv", "t,p,o\n", fields));
    assertTrue(error(InputFormat.CSV, "j.csv", "", fields).startsWith("j.csv is empty"));
    assertEquals("input " + dir.resolve("nope.csv") + " does not exist", assertThrows(InvalidInputException.class,
        () -> importer(InputFormat.CSV, fields, Map.of(), Importer.Order.SORT)
            .run(List.of(new Input("x", dir.resolve("nope.csv"))), dir.resolve("out.jsonl"))).getMessage());
  }

  @Test
  void unknownModel_namesItsFirstLineAndTheWayOut() throws IOException {
    Fields fields = new Fields("t", TimeFormat.OFFSET_S, "m", null, null, null, null, 1);
    assertEquals("model 'gpt' (first at k.csv line 3) is not in the model table; map it onto one with --map gpt=<model>"
            + " or give it a size with --size gpt=<size> (also unknown: llama); known models: phi3.5:3.8b (fast),"
            + " qwen2.5-coder:32b (default), deepseek-r1-distill-llama:70b (reasoning), command-r-plus:104b",
        error(InputFormat.CSV, "k.csv", "t,m\n1,fast\n2,gpt\n3,llama\n", fields));
  }
}
