package io.mlxcap.trace;

import io.mlxcap.InvalidInputException;

/** A trace line that cannot be read, told with the trace's name and the line number. */
public final class TraceFormatException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  private final long lineNumber;

  TraceFormatException(String trace, long lineNumber, String reason) {
    super(trace + " line " + lineNumber + ": " + reason);
    this.lineNumber = lineNumber;
  }

  /** The 1-based number of the line that could not be read. */
  public long lineNumber() {
    return lineNumber;
  }
}
