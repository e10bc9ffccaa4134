package io.mlxcap.server.host;

/** A request the host cannot serve, with the HTTP status that says why and one sentence for the client. */
public final class HostException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public HostException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /** The HTTP status: 404 unknown model, 409 conflict, 413 too large, 503 unavailable. */
  public int status() {
    return status;
  }
}
