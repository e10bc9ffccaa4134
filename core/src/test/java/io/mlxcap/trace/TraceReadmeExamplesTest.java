package io.mlxcap.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every example line in traces/README.md is read by the reader as the event it documents. */
final class TraceReadmeExamplesTest {
  private static final Path README = Path.of("").toAbsolutePath().getParent().resolve("traces/README.md");

  @Test
  void everyDocumentedLine_reads() throws Exception {
    Matcher block = Pattern.compile("```json\\n(.*?)\\n```", Pattern.DOTALL).matcher(Files.readString(README));
    List<String> lines = new ArrayList<>();
    while (block.find()) {
      lines.add(block.group(1).strip());
    }
    assertEquals(10, lines.size(), "a header and one example of each of the nine event types");
    String trace = String.join("\n", lines) + "\n";
    try (TraceReader reader = TraceRoundTripTest.reader(trace, TraceReader.Mode.STRICT)) {
      assertEquals("mlxcap workload seed-scenario --seed 20260129", reader.header().source().orElseThrow());
      List<TraceEvent> events = reader.events().collect(Collectors.toList());
      assertEquals(9, events.size());
      assertEquals(Set.of("Request", "RequestDone", "LoadStart", "Load", "LoadFailed", "Evict", "Memory", "Tick", "End"),
          events.stream().map(e -> e.getClass().getSimpleName()).collect(Collectors.toSet()));
      assertEquals(0, reader.report().unknownTypes());
    }
  }
}
