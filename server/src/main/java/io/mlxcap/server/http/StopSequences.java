package io.mlxcap.server.http;

import java.util.List;

/**
 * Generated text held back just long enough to cut it at the first stop sequence (OpenAI's
 * {@code stop}, Ollama's {@code options.stop}): the stop sequence itself is never shown, and text that
 * might be the start of one waits until the next piece settles it.
 */
final class StopSequences {
  private final List<String> stops;
  private final StringBuilder held = new StringBuilder();
  private final StringBuilder shown = new StringBuilder();
  private boolean stopped;

  StopSequences(List<String> stops) {
    this.stops = List.copyOf(stops);
  }

  /** Takes the next piece; returns the text that may be shown now (maybe empty). */
  String accept(String piece) {
    if (stopped) {
      return "";
    }
    held.append(piece);
    int cut = -1;
    for (String stop : stops) {
      int at = held.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    if (cut >= 0) {
      stopped = true;
      return show(cut);
    }
    return show(held.length() - longestPendingPrefix());
  }

  /** True once a stop sequence appeared: generation should end. */
  boolean stopped() {
    return stopped;
  }

  /** What is still held at the end of generation (no stop sequence came): shown after all. */
  String flush() {
    return stopped ? "" : show(held.length());
  }

  /** All text shown so far. */
  String text() {
    return shown.toString();
  }

  private String show(int n) {
    String out = held.substring(0, n);
    held.delete(0, stopped ? held.length() : n);
    shown.append(out);
    return out;
  }

  /** The longest end of the held text that is the start of some stop sequence. */
  private int longestPendingPrefix() {
    int best = 0;
    String text = held.toString();
    for (String stop : stops) {
      for (int k = Math.min(stop.length() - 1, text.length()); k > best; k--) {
        if (text.regionMatches(text.length() - k, stop, 0, k)) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
