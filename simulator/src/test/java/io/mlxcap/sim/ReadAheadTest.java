package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.trace.TraceFormatException;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** One read on a thread of its own, for several passes: what each pass sees, the join window, failures. */
@Timeout(60)
final class ReadAheadTest {
  @TempDir Path dir;

  /** Every arrival a pass sees, as text. */
  private static Function<RequestSource, List<String>> collect() {
    return source -> {
      List<String> seen = new ArrayList<>();
      RequestSource.Arrival a = new RequestSource.Arrival();
      while (source.next(a)) {
        seen.add(a.timeNanos + " " + a.model + " " + a.promptTokens + " " + a.outputTokens + " " + a.serviceNanos
            + " " + a.keepAliveNanos);
      }
      return seen;
    };
  }

  /** Request {@code i}; one in 5,000 asks for a keep-alive, so some blocks hold one and most none. */
  private static String request(int i) {
    return "{\"type\":\"request\",\"t_ms\":" + i + ",\"id\":\"r" + i + "\",\"model\":\"m" + (i % 7)
        + "\",\"prompt_tokens\":" + (i % 100) + ",\"max_tokens\":" + (i % 13)
        + (i % 5000 == 17 ? ",\"keep_alive_ms\":" + i : "") + "}\n";
  }

  private static String done(int i, int serviceMs) {
    return "{\"type\":\"request_done\",\"t_ms\":" + (i + 1) + ",\"id\":\"r" + i + "\",\"status\":\"ok\",\"service_ms\":"
        + serviceMs + "}\n";
  }

  // More blocks than the window holds (so blocks are handed on, and reused, while the file is read);
  // each outcome a few hundred requests after its request: every request gets its service time in the
  // one read, and three passes see the same requests in the same order as a streaming read.
  @Test
  void outcomesWithinTheWindow_joinedInOneRead_everyPassSeesTheSame() throws Exception {
    int n = ReadAhead.WINDOW + 5 * ReadAhead.BLOCK + 123;
    int lag = 300;
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      text.append(request(i));
      if (i >= lag) {
        text.append(done(i - lag, 1000 + i));
      }
    }
    Path trace = Files.writeString(dir.resolve("t.jsonl"), text);
    ReadAhead.Replayed<List<String>> r = ReadAhead.replay(trace, TraceReader.Mode.STRICT,
        List.of(collect(), collect(), collect()));
    assertEquals(n - lag, r.recordedServiceTimes());
    List<String> expected;
    try (RequestSource streaming = RequestSource.of(TraceReader.open(trace, TraceReader.Mode.STRICT),
        RequestSource.recordedServiceTimes(TraceReader.open(trace, TraceReader.Mode.STRICT)))) {
      expected = collect().apply(streaming);
    }
    assertEquals(n, expected.size());
    for (List<String> pass : r.results()) {
      assertEquals(expected, pass);
    }
  }

  // An outcome further behind than the window: the one read gives up and the two-read join answers.
  @Test
  void outcomeBeyondTheWindow_readsAgain_andJoinsById() throws Exception {
    int n = ReadAhead.WINDOW + 2 * ReadAhead.BLOCK;
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      text.append(request(i));
    }
    text.append(done(5, 4321)).append(done(n - 1, 7));
    Path trace = Files.writeString(dir.resolve("t.jsonl"), text);
    ReadAhead.Replayed<List<String>> r = ReadAhead.replay(trace, TraceReader.Mode.STRICT, List.of(collect(), collect()));
    assertEquals(2, r.recordedServiceTimes());
    for (List<String> pass : r.results()) {
      assertEquals(n, pass.size());
      assertTrue(pass.get(5).endsWith(" 4321000000 -1"), pass.get(5));
      assertTrue(pass.get(n - 1).endsWith(" 7000000 -1"), pass.get(n - 1));
    }
  }

  // A bad line far into the file stops every pass with the line's number; nothing hangs.
  @Test
  void badLine_stopsEveryPass_withItsLineNumber() throws Exception {
    StringBuilder text = new StringBuilder();
    int bad = 3 * ReadAhead.BLOCK + 17;
    for (int i = 1; i < bad; i++) {
      text.append(request(i));
    }
    text.append("{\"type\":\"request\",\"t_ms\":\"soon\"}\n");
    for (int i = bad; i < bad + 10; i++) {
      text.append(request(i));
    }
    Path trace = Files.writeString(dir.resolve("t.jsonl"), text);
    TraceFormatException e = assertThrows(TraceFormatException.class,
        () -> ReadAhead.replay(trace, TraceReader.Mode.STRICT, List.of(collect(), collect(), collect())));
    assertTrue(e.getMessage().contains("line " + bad), e.getMessage());
  }

  // A pass that fails stops the read and the other passes; its own failure is what the caller sees.
  @Test
  void failingPass_stopsTheOthers_andIsThrown() throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 40 * ReadAhead.BLOCK; i++) {
      text.append(request(i));
    }
    Path trace = Files.writeString(dir.resolve("t.jsonl"), text);
    Function<RequestSource, List<String>> failing = source -> {
      RequestSource.Arrival a = new RequestSource.Arrival();
      for (int i = 0; i < 10; i++) {
        source.next(a);
      }
      throw new IllegalStateException("pass broke");
    };
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ReadAhead.replay(trace, TraceReader.Mode.STRICT, List.of(collect(), failing, collect())));
    assertEquals("pass broke", e.getMessage());
  }
}
