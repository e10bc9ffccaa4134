package io.mlxcap.time;

/** The monotonic wall-clock ticker; the one place in mlxcap that reads the system clock. */
enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }
}
