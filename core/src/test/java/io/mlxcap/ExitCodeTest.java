package io.mlxcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

final class ExitCodeTest {

  private static String[] report(Throwable failure) {
    StringWriter err = new StringWriter();
    int code = ExitCode.report(failure, new PrintWriter(err));
    return new String[] {Integer.toString(code), err.toString()};
  }

  @Test
  void badInput_isTwo_withTheMessageAlone() {
    String[] r = report(new InvalidInputException("MLX_MAX_QUEUE='x' is invalid"));
    assertEquals("2", r[0]);
    assertEquals("mlxcap: MLX_MAX_QUEUE='x' is invalid" + System.lineSeparator(), r[1]);
  }

  @Test
  void ioFailure_isSeventyFour() {
    String[] r = report(new UncheckedIOException("cannot write out/x: disk full", new IOException("disk full")));
    assertEquals("74", r[0]);
    assertEquals("mlxcap: cannot write out/x: disk full" + System.lineSeparator(), r[1]);
  }

  @Test
  void bug_isSeventy_withoutAStackTrace() {
    String[] r = report(new IllegalStateException("boom"));
    assertEquals("70", r[0]);
    assertTrue(r[1].startsWith("mlxcap: internal error: java.lang.IllegalStateException: boom"), r[1]);
    assertTrue(System.getenv("MLXCAP_DEBUG") != null || !r[1].contains("\tat "), r[1]);
  }

  @Test
  void durations_oneParser() {
    assertEquals(java.time.Duration.ofMillis(1500), Durations.parse("1.5s"));
    assertEquals(java.time.Duration.ofDays(7), Durations.parse("7d"));
    assertEquals(java.time.Duration.ZERO, Durations.parse("0"), "zero needs no unit");
    org.junit.jupiter.api.Assertions.assertThrows(InvalidInputException.class, () -> Durations.parse("5"));
    InvalidInputException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidInputException.class,
        () -> Durations.parse("--drain", "soon"));
    assertEquals("--drain 'soon' is not a duration; write a number and a unit: 500ms, 90s, 10m, 24h or 7d", e.getMessage());
  }
}
