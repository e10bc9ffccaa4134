package io.mlxcap;

/**
 * A mistake in what a user gave mlxcap (a setting, a file, a request), told in one sentence.
 *
 * <p>Its message is meant to be shown as it is, without a stack trace: it names the thing that is
 * wrong, the value given and what is allowed.
 */
public class InvalidInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** An error whose message is the one sentence a user sees. */
  public InvalidInputException(String message) {
    super(message);
  }

  /** An error whose message is the one sentence a user sees, keeping its cause for logs. */
  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
