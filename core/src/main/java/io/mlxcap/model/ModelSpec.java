package io.mlxcap.model;

import java.util.List;
import java.util.Objects;

/**
 * One model a server can load: its canonical name, the aliases it answers to, its size in RAM and how
 * it serves.
 *
 * @param size the model's bytes: its weights as they lie (from the files), or its whole resident size
 *     when that is what is known (the seed's table)
 * @param details what the runtime adds to the weights, the context length, and where the figures came from
 */
public record ModelSpec(String name, List<String> aliases, SizeRange size, Performance performance, Details details) {

  /**
   * What a model table knows beyond size and speed.
   *
   * @param overheadBytes bytes the runtime holds for the model beyond {@code size} (buffers, graph,
   *     allocator slack); 0 when unknown or already in {@code size}
   * @param contextTokens the longest context (prompt + output) the model takes; 0 when unknown
   * @param source where the sizes came from (a file, a folder, "the seed's note"); empty when unsaid
   */
  public record Details(long overheadBytes, long contextTokens, String source) {
    /** Nothing known beyond size and speed. */
    public static final Details NONE = new Details(0, 0, "");

    public Details {
      if (overheadBytes < 0 || contextTokens < 0) {
        throw new IllegalArgumentException("overhead_bytes and context_tokens must be >= 0, were " + overheadBytes
            + " and " + contextTokens);
      }
      Objects.requireNonNull(source, "source");
    }
  }

  /** A model with {@link Performance#DEFAULT} performance. */
  public ModelSpec(String name, List<String> aliases, SizeRange size) {
    this(name, aliases, size, Performance.DEFAULT);
  }

  /** A model with nothing known beyond size and speed. */
  public ModelSpec(String name, List<String> aliases, SizeRange size, Performance performance) {
    this(name, aliases, size, performance, Details.NONE);
  }

  public ModelSpec {
    requireName(name, "a model name");
    Objects.requireNonNull(size, "size");
    Objects.requireNonNull(performance, "performance");
    Objects.requireNonNull(details, "details");
    aliases = List.copyOf(aliases);
    for (String alias : aliases) {
      requireName(alias, "an alias of " + name);
      if (alias.equals(name)) {
        throw new IllegalArgumentException("model " + name + " lists its own name as an alias");
      }
    }
  }

  private static void requireName(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    if (!value.strip().equals(value) || value.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(what + " must not contain spaces, was '" + value + "'");
    }
    if (value.contains(",")) {
      throw new IllegalArgumentException(
          what + " must not contain a comma (MLX_PRELOAD_MODELS separates names with commas), was '"
              + value + "'");
    }
  }

  /** Bytes the model holds once loaded at {@code estimate}: its size plus the runtime's overhead. */
  public long residentBytes(SizeRange.Estimate estimate) {
    return size.bytes(estimate) + details.overheadBytes();
  }

  /**
   * Why a request of {@code promptTokens} asking for {@code maxTokens} more does not fit this model's
   * context, in one sentence; empty when it fits or the context is unknown. The rule both shells use:
   * prompt + output must fit, so one request's working memory ({@code kv_bytes_per_token} × context)
   * is bounded. An unknown count (negative) counts as 0.
   */
  public java.util.Optional<String> contextExceeded(long promptTokens, long maxTokens) {
    long context = details.contextTokens();
    long asked = Math.max(0, promptTokens) + Math.max(0, maxTokens);
    if (context == 0 || asked <= context) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of("this request needs " + asked + " tokens (" + Math.max(0, promptTokens) + " of prompt + "
        + Math.max(0, maxTokens) + " to generate), more than the " + context + "-token context of " + name);
  }

  /** Returns {@code name (alias, …)} as people read it in lists. */
  public String describe() {
    return aliases.isEmpty() ? name : name + " (" + String.join(", ", aliases) + ")";
  }
}
