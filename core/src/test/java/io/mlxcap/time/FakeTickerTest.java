package io.mlxcap.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

final class FakeTickerTest {

  @Test
  void advance_movesByTheDuration() {
    FakeTicker ticker = new FakeTicker();
    assertEquals(0, ticker.read());
    ticker.advance(Duration.ofSeconds(45)).advance(5);
    assertEquals(45_000_000_005L, ticker.read());
  }

  @Test
  void advance_negative_refused() {
    FakeTicker ticker = new FakeTicker();
    assertThrows(IllegalArgumentException.class, () -> ticker.advance(Duration.ofSeconds(-1)));
    ticker.setTo(10);
    assertThrows(IllegalArgumentException.class, () -> ticker.setTo(9));
    assertEquals(10, ticker.read());
  }

  @Test
  void system_isMonotonic() {
    Ticker ticker = Ticker.system();
    long first = ticker.read();
    assertTrue(ticker.read() >= first);
  }
}
