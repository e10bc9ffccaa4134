package io.mlxcap.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Reads durations like {@code 500ms}, {@code 90s}, {@code 10m}, {@code 24h}, {@code 7d} and writes them for people. */
final class Durations implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h|d)");

  @Override
  public Duration convert(String text) {
    return parse(text);
  }

  static Duration parse(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException(
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
    return Duration.ofNanos(Math.round(value * nanosPerUnit));
  }

  /** Returns e.g. {@code 23h 59m 50s}, {@code 1m 05s}, {@code 0.250s}. */
  static String format(double seconds) {
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
