package io.mlxcap.trace;

import java.util.List;
import java.util.Optional;

/**
 * What reading a trace found besides its events: lines skipped, unknown types, a torn last line.
 *
 * @param lines lines read, blank ones included
 * @param events events returned
 * @param skipped malformed lines skipped (lenient mode only; strict mode stops at the first)
 * @param skippedExamples the first few skipped lines' reasons, each with its line number
 * @param unknownTypes well-formed lines of event types this version does not know, ignored
 * @param tornLastLine the reason the last line, which had no newline, could not be read: what a
 *     crash mid-write leaves; tolerated in both modes
 * @param ended whether the trace has the {@code end} event a clean shutdown writes
 */
public record ReadReport(long lines, long events, long skipped, List<String> skippedExamples, long unknownTypes,
    Optional<String> tornLastLine, boolean ended) {

  public ReadReport {
    skippedExamples = List.copyOf(skippedExamples);
  }

  /** Returns a one-paragraph summary for people, empty when there is nothing to say. */
  public String describe() {
    StringBuilder text = new StringBuilder();
    if (skipped > 0) {
      text.append("skipped ").append(skipped).append(" malformed line").append(skipped == 1 ? "" : "s")
          .append(" (").append(String.join("; ", skippedExamples)).append(skipped > skippedExamples.size() ? "; …" : "")
          .append("). ");
    }
    if (unknownTypes > 0) {
      text.append("ignored ").append(unknownTypes).append(" line").append(unknownTypes == 1 ? "" : "s")
          .append(" of event types this version does not know. ");
    }
    tornLastLine.ifPresent(reason -> text.append("the last line was cut off (").append(reason)
        .append("), as a crash mid-write leaves it; it was ignored. "));
    return text.toString().strip();
  }
}
