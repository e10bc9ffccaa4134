package io.mlxcap;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them on a command line ({@code 500ms}, {@code 90s}, {@code 10m},
 * {@code 24h}, {@code 7d}; a bare {@code 0} is zero) and as reports print them: the one parser every
 * command uses.
 */
public final class Durations {
  private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Reads {@code text}.
   *
   * @throws InvalidInputException saying what is wrong and what to write instead
   */
  public static Duration parse(String text) {
    if (text.strip().matches("0+(\\.0+)?")) {
      return Duration.ZERO; // zero is zero in any unit
    }
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new InvalidInputException(
          "'" + text + "' is not a duration; write a number and a unit: 500ms, 90s, 10m, 24h or 7d");
    }
    double value = Double.parseDouble(m.group(1));
    double nanosPerUnit = switch (m.group(2)) {
      case "ms" -> 1e6;
      case "s" -> 1e9;
      case "m" -> 60e9;
      case "h" -> 3_600e9;
      default -> 86_400e9;
    };
    double nanos = value * nanosPerUnit;
    if (nanos > Long.MAX_VALUE) {
      throw new InvalidInputException("'" + text + "' is longer than mlxcap can count (292 years)");
    }
    return Duration.ofNanos(Math.round(nanos));
  }

  /** Reads the value of {@code option}; a bad one is one sentence that names the option. */
  public static Duration parse(String option, String text) {
    try {
      return parse(text);
    } catch (InvalidInputException e) {
      throw new InvalidInputException(option + " " + e.getMessage());
    }
  }

  /** Returns e.g. {@code 23h 59m 50s}, {@code 1m 05s}, {@code 0.250s}; {@code -} for NaN. */
  public static String format(double seconds) {
    if (Double.isNaN(seconds)) {
      return "-";
    }
    if (seconds < 60) {
      return String.format(Locale.ROOT, seconds < 10 ? "%.3fs" : "%.1fs", seconds);
    }
    long s = Math.round(seconds);
    long h = s / 3600;
    long m = (s % 3600) / 60;
    long sec = s % 60;
    return h > 0 ? String.format(Locale.ROOT, "%dh %02dm %02ds", h, m, sec) : String.format(Locale.ROOT, "%dm %02ds", m, sec);
  }
}
