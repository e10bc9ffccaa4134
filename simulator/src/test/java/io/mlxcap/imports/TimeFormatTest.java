package io.mlxcap.imports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class TimeFormatTest {

  @ParameterizedTest
  @CsvSource({
    "iso, 1970-01-01 00:00:01.9799600, 1979960000",
    "iso, 1970-01-01T00:00:01Z, 1000000000",
    "iso, 1970-01-01T01:00:01+01:00, 1000000000",
    "iso, 2023-11-16 18:17:03.9799600, 1700158623979960000",
    "epoch-s, 1.5, 1500000000",
    "epoch-ms, 1500.25, 1500250000",
    "offset-s, 0, 0",
    "offset-ms, 3536999, 3536999000000",
  })
  void parseNanos(String format, String text, long nanos) {
    assertEquals(nanos, TimeFormat.fromCliName(format).parseNanos(text));
  }

  @Test
  void parse_badValues_sayWhatWasExpected() {
    assertEquals("cannot read time '16/11/2023' as iso (e.g. 2023-11-16 18:17:03.9799600)",
        assertThrows(IllegalArgumentException.class, () -> TimeFormat.ISO.parseNanos("16/11/2023")).getMessage());
    assertEquals("cannot read time '-5' as offset-ms (a number)",
        assertThrows(IllegalArgumentException.class, () -> TimeFormat.OFFSET_MS.parseNanos("-5")).getMessage());
    assertEquals("unknown time format 'unix'; use iso, epoch-s, epoch-ms, offset-s or offset-ms",
        assertThrows(IllegalArgumentException.class, () -> TimeFormat.fromCliName("unix")).getMessage());
  }
}
