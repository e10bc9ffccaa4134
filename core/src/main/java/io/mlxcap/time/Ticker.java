package io.mlxcap.time;

/**
 * A source of time in nanoseconds; the only way mlxcap reads a clock.
 *
 * <p>Only differences between two readings of the same ticker mean anything. The server uses
 * {@link #system()}; tests use a FakeTicker (in the core test-jar) that they advance themselves.
 */
@FunctionalInterface
public interface Ticker {

  /** Returns the current time of this ticker in nanoseconds. */
  long read();

  /** Returns the ticker backed by {@link System#nanoTime()}. */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}
