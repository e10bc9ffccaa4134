package io.mlxcap.imports;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** How a trace column gives time: absolute timestamps or offsets from the start, in a unit. */
public enum TimeFormat {
  /** ISO-8601 date-time, {@code T} or a space between date and time, any fraction of a second; UTC unless it says otherwise. */
  ISO(true),
  /** Seconds since 1970-01-01 UTC, fractions allowed. */
  EPOCH_S(true),
  /** Milliseconds since 1970-01-01 UTC, fractions allowed. */
  EPOCH_MS(true),
  /** Seconds since the trace started. */
  OFFSET_S(false),
  /** Milliseconds since the trace started. */
  OFFSET_MS(false);

  private final boolean absolute;

  TimeFormat(boolean absolute) {
    this.absolute = absolute;
  }

  /** True when values are points in real time (so the trace gets a start date), false for offsets. */
  public boolean absolute() {
    return absolute;
  }

  /** The name on the command line, e.g. {@code epoch-ms}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Returns the format a command-line name stands for. */
  public static TimeFormat fromCliName(String name) {
    for (TimeFormat f : values()) {
      if (f.cliName().equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown time format '" + name + "'; use iso, epoch-s, epoch-ms, offset-s or offset-ms");
  }

  /**
   * Returns {@code text} in nanoseconds: since the epoch for absolute formats, since the start for offsets.
   *
   * @throws IllegalArgumentException saying what was expected
   */
  public long parseNanos(String text) {
    String value = text.strip();
    try {
      switch (this) {
        case ISO:
          Instant instant = parseIso(value);
          return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
        case EPOCH_S:
        case OFFSET_S:
          return nonNegative(new BigDecimal(value).movePointRight(9));
        default:
          return nonNegative(new BigDecimal(value).movePointRight(6));
      }
    } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
      throw new IllegalArgumentException("cannot read time '" + text + "' as " + cliName() + " ("
          + (this == ISO ? "e.g. 2023-11-16 18:17:03.9799600" : "a number") + ")");
    }
  }

  private static long nonNegative(BigDecimal nanos) {
    if (nanos.signum() < 0) {
      throw new NumberFormatException("negative");
    }
    return nanos.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
  }

  private static Instant parseIso(String value) {
    String iso = value.replace(' ', 'T');
    try {
      return OffsetDateTime.parse(iso).toInstant();
    } catch (DateTimeParseException e) {
      if (iso.endsWith("Z")) {
        throw e;
      }
      return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC);
    }
  }
}
