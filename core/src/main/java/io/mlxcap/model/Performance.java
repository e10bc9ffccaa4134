package io.mlxcap.model;

/**
 * How a model uses memory and time while it serves, for the simulator when a trace does not say.
 *
 * @param kvBytesPerToken working memory per token of context (prompt + output), mostly KV cache:
 *     2 × layers × KV heads × head size × 2 bytes for fp16
 * @param prefillTokensPerSecond prompt tokens processed per second
 * @param decodeTokensPerSecond output tokens generated per second
 */
public record Performance(long kvBytesPerToken, double prefillTokensPerSecond, double decodeTokensPerSecond) {

  /** What a model gets when the table says nothing: a 32b-class model with grouped-query attention on Apple silicon. */
  public static final Performance DEFAULT = new Performance(262_144, 200, 20);

  public Performance {
    if (kvBytesPerToken < 0) {
      throw new IllegalArgumentException("kv_bytes_per_token must be >= 0, was " + kvBytesPerToken);
    }
    if (!(prefillTokensPerSecond > 0) || !(decodeTokensPerSecond > 0)
        || Double.isInfinite(prefillTokensPerSecond) || Double.isInfinite(decodeTokensPerSecond)) {
      throw new IllegalArgumentException("prefill_tokens_per_s and decode_tokens_per_s must be > 0, were "
          + prefillTokensPerSecond + " and " + decodeTokensPerSecond);
    }
  }

  /** Nanoseconds to read {@code promptTokens} and write {@code outputTokens}. */
  public long serviceNanos(long promptTokens, long outputTokens) {
    return Math.round(1e9 * (promptTokens / prefillTokensPerSecond + outputTokens / decodeTokensPerSecond));
  }
}
