package io.mlxcap;

import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * The exit codes of every mlxcap command, and the one rule that turns a failure into a sentence
 * and a code. Codes follow BSD {@code sysexits.h} where it has one; 2 is picocli's usage error too.
 */
public enum ExitCode {
  /** Done. */
  OK(0),
  /** A check ran and did not pass: {@code validate} whose prediction missed, {@code drive} whose server failed midway. */
  CHECK_FAILED(1),
  /** A mistake in what the user gave: an option, a file, a value, a setting. */
  BAD_INPUT(2),
  /** A bug: the message asks for MLXCAP_DEBUG=1 to see where. */
  INTERNAL(70),
  /** Reading or writing failed for a reason outside the input (disk full, permissions, a device error). */
  IO_FAILURE(74);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  /** The process exit status. */
  public int code() {
    return code;
  }

  /** The code for {@code failure}: bad input, an I/O failure, or else a bug. */
  public static ExitCode of(Throwable failure) {
    if (failure instanceof InvalidInputException) {
      return BAD_INPUT;
    }
    if (failure instanceof UncheckedIOException) {
      return IO_FAILURE;
    }
    return INTERNAL;
  }

  /**
   * Writes {@code failure} to {@code err} as one line starting {@code mlxcap: } (with the stack trace
   * only for a bug and only when the environment has MLXCAP_DEBUG) and returns its exit status.
   */
  public static int report(Throwable failure, PrintWriter err) {
    ExitCode code = of(failure);
    boolean debug = System.getenv("MLXCAP_DEBUG") != null;
    if (code == INTERNAL) {
      err.println("mlxcap: internal error: " + failure + (debug ? "" : " (set MLXCAP_DEBUG=1 to see where)"));
      if (debug) {
        failure.printStackTrace(err);
      }
    } else {
      err.println("mlxcap: " + failure.getMessage());
    }
    err.flush();
    return code.code();
  }
}
