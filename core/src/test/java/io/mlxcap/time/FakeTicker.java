package io.mlxcap.time;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ticker that moves only when told to, for timeline tests and virtual time.
 *
 * <p>Thread-safe, so a test may advance it while a server thread reads it.
 */
public final class FakeTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong();

  @Override
  public long read() {
    return nanos.get();
  }

  /** Moves the time forward by {@code duration}, which must not be negative. */
  public FakeTicker advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    return advance(duration.toNanos());
  }

  /** Moves the time forward by {@code nanoseconds}, which must not be negative. */
  public FakeTicker advance(long nanoseconds) {
    if (nanoseconds < 0) {
      throw new IllegalArgumentException("a ticker cannot go back in time, asked to advance by " + nanoseconds + " ns");
    }
    nanos.addAndGet(nanoseconds);
    return this;
  }

  /** Moves the time to {@code nanoseconds}, which must not be earlier than now. */
  public FakeTicker setTo(long nanoseconds) {
    long now = nanos.get();
    if (nanoseconds < now) {
      throw new IllegalArgumentException("a ticker cannot go back in time, from " + now + " to " + nanoseconds + " ns");
    }
    nanos.set(nanoseconds);
    return this;
  }
}
