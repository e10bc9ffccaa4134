package io.mlxcap.trace;

import io.mlxcap.trace.TraceEvent.Request;
import java.nio.charset.StandardCharsets;

/**
 * A fast path for the line a trace holds millions of: a {@code request} line in exactly the layout
 * {@link TraceWriter} writes —
 * {@code {"type":"request","t_ms":N,"id":"S","model":"S"[,"prompt_tokens":N][,"max_tokens":N][,"output_tokens":N][,"service_ms":N]}}
 * with no spaces, no escapes in the strings and plain decimal numbers. Anything else (another order, a
 * space, an escape, an exponent, null, an unknown field) returns null and goes to the full parser, so
 * correctness never depends on this class: it either gives the full parser's answer or none.
 *
 * <p>Model names are interned by their bytes, so a name read again is the same String (no allocation,
 * its hash cached).
 */
final class RequestLines {
  private static final byte[] HEAD = ascii("{\"type\":\"request\",\"t_ms\":");
  private static final byte[] ID = ascii(",\"id\":\"");
  private static final byte[] MODEL = ascii(",\"model\":\"");
  private static final byte[] PROMPT = ascii(",\"prompt_tokens\":");
  private static final byte[] MAX = ascii(",\"max_tokens\":");
  private static final byte[] OUTPUT = ascii(",\"output_tokens\":");
  private static final byte[] SERVICE = ascii(",\"service_ms\":");
  private static final long NANOS_PER_MS = 1_000_000L;
  /** Slots of the name table; at most half of them are filled. */
  private static final int NAMES = 1024;

  private final byte[][] nameBytes = new byte[NAMES][];
  private final String[] names = new String[NAMES];
  private int interned;

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The request on {@code line}, or null when the line is not in the writer's exact layout. */
  Request decode(byte[] line, int offset, int length) {
    int end = offset + length;
    int at = offset;
    if (!startsWith(line, at, end, HEAD)) {
      return null;
    }
    at += HEAD.length;
    long time = millis(line, at, end);
    if (time < 0) {
      return null;
    }
    at = cursor;
    if (!startsWith(line, at, end, ID)) {
      return null;
    }
    int idStart = at + ID.length;
    int idEnd = stringEnd(line, idStart, end);
    if (idEnd < 0) {
      return null;
    }
    at = idEnd + 1;
    if (!startsWith(line, at, end, MODEL)) {
      return null;
    }
    int modelStart = at + MODEL.length;
    int modelEnd = stringEnd(line, modelStart, end);
    if (modelEnd < 0 || modelEnd == modelStart) {
      return null;
    }
    at = modelEnd + 1;
    long prompt = TraceEvent.UNKNOWN;
    long max = TraceEvent.UNKNOWN;
    long output = TraceEvent.UNKNOWN;
    long service = TraceEvent.UNKNOWN;
    if (startsWith(line, at, end, PROMPT)) {
      prompt = whole(line, at + PROMPT.length, end);
      if (prompt < 0) {
        return null;
      }
      at = cursor;
    }
    if (startsWith(line, at, end, MAX)) {
      max = whole(line, at + MAX.length, end);
      if (max < 0) {
        return null;
      }
      at = cursor;
    }
    if (startsWith(line, at, end, OUTPUT)) {
      output = whole(line, at + OUTPUT.length, end);
      if (output < 0) {
        return null;
      }
      at = cursor;
    }
    if (startsWith(line, at, end, SERVICE)) {
      service = millis(line, at + SERVICE.length, end);
      if (service < 0) {
        return null;
      }
      at = cursor;
    }
    if (at != end - 1 || line[at] != '}') {
      return null;
    }
    String id = new String(line, idStart, idEnd - idStart, StandardCharsets.UTF_8);
    return new Request(time, id, model(line, modelStart, modelEnd), prompt, max, output, service);
  }

  /** Where the last number read ended. */
  private int cursor;

  /**
   * Whether {@code prefix} is at {@code at}. The optional fields all start with {@code ,"} and differ
   * in their third byte, so that byte is looked at first; the rest is compared by the JDK's vectorized
   * range comparison (a byte loop here was a third of the parse).
   */
  private static boolean startsWith(byte[] line, int at, int end, byte[] prefix) {
    int n = prefix.length;
    return end - at >= n && line[at + 2] == prefix[2]
        && java.util.Arrays.equals(line, at, at + n, prefix, 0, n);
  }

  /**
   * The index of the closing quote of a string starting at {@code at}; -1 at an escape, a control byte,
   * a byte past ASCII (the full parser checks UTF-8) or the end.
   */
  private static int stringEnd(byte[] line, int at, int end) {
    for (int i = at; i < end; i++) {
      byte b = line[i];
      if (b == '"') {
        return i;
      }
      if (b == '\\' || b < 0x20) { // bytes are signed: this also sends every non-ASCII byte to the full parser
        return -1;
      }
    }
    return -1;
  }

  /** A whole number of at most 18 digits, without a leading zero unless it is 0; -1 otherwise. */
  private long whole(byte[] line, int at, int end) {
    long value = 0;
    int i = at;
    while (i < end && line[i] >= '0' && line[i] <= '9') {
      if (i - at == 18) {
        return -1;
      }
      value = value * 10 + (line[i] - '0');
      i++;
    }
    if (i == at || (line[at] == '0' && i - at > 1)) {
      return -1;
    }
    cursor = i;
    return value;
  }

  /**
   * Decimal milliseconds as exact nanoseconds, as the full parser reads them (up to 12 whole digits;
   * past the sixth decimal rounded by the seventh); -1 for anything else.
   */
  private long millis(byte[] line, int at, int end) {
    long whole = 0;
    int i = at;
    while (i < end && line[i] >= '0' && line[i] <= '9') {
      if (i - at == 12) {
        return -1;
      }
      whole = whole * 10 + (line[i] - '0');
      i++;
    }
    if (i == at || (line[at] == '0' && i - at > 1)) {
      return -1;
    }
    long fraction = 0;
    int scale = 0;
    boolean roundUp = false;
    if (i < end && line[i] == '.') {
      i++;
      int digitsStart = i;
      while (i < end && line[i] >= '0' && line[i] <= '9') {
        if (scale < 6) {
          fraction = fraction * 10 + (line[i] - '0');
          scale++;
        } else if (scale == 6) {
          roundUp = line[i] >= '5';
          scale++;
        }
        i++;
      }
      if (i == digitsStart) {
        return -1;
      }
    }
    if (i < end && (line[i] == 'e' || line[i] == 'E')) {
      return -1;
    }
    for (int s = Math.min(scale, 6); s < 6; s++) {
      fraction *= 10;
    }
    cursor = i;
    return whole * NANOS_PER_MS + fraction + (roundUp ? 1 : 0);
  }

  /**
   * The model's name, the same String as last time for a name seen before: a small open-addressing
   * table keyed by the name's bytes (a trace names a few hundred models at most; past {@link #NAMES}
   * distinct names a new String is made each time, which is only slower).
   */
  private String model(byte[] line, int start, int end) {
    int hash = 1;
    for (int i = start; i < end; i++) {
      hash = 31 * hash + line[i];
    }
    int mask = NAMES - 1;
    for (int probe = 0, slot = (hash ^ (hash >>> 16)) & mask; probe < NAMES; probe++, slot = (slot + 1) & mask) {
      byte[] known = nameBytes[slot];
      if (known == null) {
        String name = new String(line, start, end - start, StandardCharsets.UTF_8);
        if (interned < NAMES / 2) {
          nameBytes[slot] = java.util.Arrays.copyOfRange(line, start, end);
          names[slot] = name;
          interned++;
        }
        return name;
      }
      if (known.length == end - start && java.util.Arrays.equals(known, 0, known.length, line, start, end)) {
        return names[slot];
      }
    }
    return new String(line, start, end - start, StandardCharsets.UTF_8);
  }
}
