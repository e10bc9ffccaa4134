package io.mlxcap.server.host;

/**
 * A request the host cannot serve, with the HTTP status that says why and one sentence for the client;
 * optionally an API error code (OpenAI's {@code context_length_exceeded}), a time after which trying
 * again may succeed ({@code Retry-After}), and whether the request was cancelled rather than refused.
 */
public final class HostException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String code;
  private final long retryAfterSeconds;
  private final boolean cancelled;

  public HostException(int status, String message) {
    this(status, message, null, 0, false);
  }

  private HostException(int status, String message, String code, long retryAfterSeconds, boolean cancelled) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.cancelled = cancelled;
  }

  /** 503: try again after {@code seconds} (at least 1). */
  public static HostException unavailable(String message, long seconds) {
    return new HostException(503, message, null, Math.max(1, seconds), false);
  }

  /** The request was cancelled (the server is shutting down, or its client left): 503, retry after 5 s. */
  public static HostException cancelled(String message) {
    return new HostException(503, message, null, 5, true);
  }

  /** A 400 with an API error code. */
  public static HostException invalid(String message, String code) {
    return new HostException(400, message, code, 0, false);
  }

  /** The HTTP status: 400 bad request, 404 unknown model, 409 conflict, 413 too large, 503 unavailable. */
  public int status() {
    return status;
  }

  /** The API error code, or null. */
  public String code() {
    return code;
  }

  /** Seconds after which the client may try again, or 0 when it should not. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** True when the request was cancelled rather than refused. */
  public boolean cancelled() {
    return cancelled;
  }
}
