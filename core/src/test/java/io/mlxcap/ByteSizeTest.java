package io.mlxcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class ByteSizeTest {

  @ParameterizedTest
  @CsvSource({
    "0, 0",
    "1234, 1234",
    "12B, 12",
    "2.5GB, 2500000000",
    "2.5 gb, 2500000000",
    "65GB, 65000000000",
    "96GiB, 103079215104",
    "96G, 103079215104",
    "1.5TiB, 1649267441664",
    "3KB, 3000",
    "3KiB, 3072",
    "7MiB, 7340032",
  })
  void parse_units(String text, long bytes) {
    assertEquals(bytes, ByteSize.parse(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "GB", "-1GB", "12.5", "12 parsecs", "1e9", "99999999999TB"})
  void parse_rejectsWithReason(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
  }

  @Test
  void parse_unknownUnitNamesIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("12 parsecs"));
    assertTrue(e.getMessage().contains("'parsecs'"), e.getMessage());
  }

  @Test
  void format_decimalUnits() {
    assertEquals("999 B", ByteSize.format(999));
    assertEquals("22.5 GB", ByteSize.format(22_500_000_000L));
    assertEquals("1.0 KB", ByteSize.format(1000));
    assertEquals("-3.0 MB", ByteSize.format(-3_000_000));
  }
}
