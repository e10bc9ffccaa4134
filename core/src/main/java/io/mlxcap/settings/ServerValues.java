package io.mlxcap.settings;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Values as the servers read them from their environment, flags or config: a variable's stripped
 * text, whole numbers, and the Go servers' (Ollama, LocalAI, llama-swap) durations and booleans. Each
 * server's settings class says what its server does with them and refuses a bad one in that server's
 * terms.
 */
final class ServerValues {
  private static final Pattern GO_DURATION = Pattern.compile("([0-9]*(?:\\.[0-9]*)?)(ns|us|µs|ms|s|m|h)");

  private ServerValues() {}

  /** The stripped value of {@code name} in {@code env}; empty when unset. */
  static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null ? "" : v.strip();
  }

  /** Go's {@code time.ParseDuration}, in nanoseconds; null when {@code v} is not one. */
  static Long duration(String v) {
    String s = v;
    boolean negative = false;
    if (s.startsWith("-") || s.startsWith("+")) {
      negative = s.startsWith("-");
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return 0L;
    }
    if (s.isEmpty()) {
      return null;
    }
    Matcher m = GO_DURATION.matcher(s);
    BigDecimal total = BigDecimal.ZERO;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at || m.group(1).isEmpty() || m.group(1).equals(".")) {
        return null;
      }
      BigDecimal unit = BigDecimal.valueOf(switch (m.group(2)) {
        case "ns" -> 1L;
        case "us", "µs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      });
      total = total.add(new BigDecimal(m.group(1)).multiply(unit));
      at = m.end();
    }
    if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      return null;
    }
    long nanos = total.longValue();
    return negative ? -nanos : nanos;
  }

  /**
   * The whole number {@code name} holds, {@code defaultValue} when unset; one below {@code min}, or not
   * a whole number, is refused as {@code NAME='VALUE' is invalid: } followed by {@code why}.
   */
  static long whole(Map<String, String> env, String name, long defaultValue, long min, String why) {
    String v = value(env, name);
    if (v.isEmpty()) {
      return defaultValue;
    }
    try {
      long n = Long.parseLong(v);
      if (n >= min) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new io.mlxcap.InvalidInputException(name + "='" + v + "' is invalid: " + why);
  }

  /** Writes {@code d} (>= 0) as Go writes a duration back, in its largest exact unit: {@code 0}, {@code 5m}, {@code 500ms}. */
  static String write(Duration d) {
    long nanos = d.toNanos();
    if (nanos == 0) {
      return "0";
    }
    long[] units = {3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L, 1L};
    String[] names = {"h", "m", "s", "ms", "us", "ns"};
    for (int i = 0; i < units.length; i++) {
      if (nanos % units[i] == 0) {
        return nanos / units[i] + names[i];
      }
    }
    throw new AssertionError(nanos);
  }

  /** Go's {@code strconv.ParseBool}: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False; null otherwise. */
  static Boolean bool(String v) {
    return switch (v) {
      case "1", "t", "T", "TRUE", "true", "True" -> true;
      case "0", "f", "F", "FALSE", "false", "False" -> false;
      default -> null;
    };
  }
}
