package io.mlxcap.server.http;

/** A request body or parameter the API cannot accept, told in one sentence; answered with {@link #status}. */
final class BadRequest extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;

  BadRequest(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  BadRequest(String message) {
    this(400, message);
  }
}
