package io.mlxcap;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes byte counts the way people type them: {@code 65GB}, {@code 96GiB}, {@code 2.5 GB}.
 *
 * <p>Units: {@code B}; decimal {@code KB MB GB TB} (powers of 1000, as the seed's model table uses
 * them); binary {@code KiB MiB GiB TiB} (powers of 1024); and the single letters {@code K M G T},
 * read as binary like Java's {@code -Xmx}. Case does not matter. A number without a unit is a count
 * of bytes and must be whole.
 */
public final class ByteSize {
  private static final Pattern SIZE =
      Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([a-zA-Z]*)\\s*");

  private ByteSize() {}

  /**
   * Returns the number of bytes {@code text} stands for.
   *
   * @throws IllegalArgumentException saying what is wrong with the text, for the caller to put after
   *     the name of the thing that held it
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a size such as 96GiB, 65GB, 2.5GB or a whole number of bytes");
    }
    BigDecimal number = new BigDecimal(m.group(1));
    BigDecimal bytes = number.multiply(BigDecimal.valueOf(multiplier(m.group(2))));
    if (m.group(2).isEmpty() && number.scale() > 0) {
      throw new IllegalArgumentException("a number of bytes must be whole; add a unit such as GB");
    }
    try {
      return bytes.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("that is more bytes than mlxcap can count", e);
    }
  }

  private static long multiplier(String unit) {
    switch (unit.toLowerCase(Locale.ROOT)) {
      case "":
      case "b":
        return 1L;
      case "kb":
        return 1_000L;
      case "mb":
        return 1_000_000L;
      case "gb":
        return 1_000_000_000L;
      case "tb":
        return 1_000_000_000_000L;
      case "k":
      case "kib":
        return 1L << 10;
      case "m":
      case "mib":
        return 1L << 20;
      case "g":
      case "gib":
        return 1L << 30;
      case "t":
      case "tib":
        return 1L << 40;
      default:
        throw new IllegalArgumentException(
            "unknown unit '" + unit + "'; use B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)");
    }
  }

  /** Returns {@code bytes} in decimal units with one decimal place, e.g. {@code 22.5 GB}. */
  public static String format(long bytes) {
    if (bytes < 0) {
      return "-" + format(-bytes);
    }
    String[] units = {"B", "KB", "MB", "GB", "TB", "PB"};
    double value = bytes;
    int unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
