package io.mlxcap.inspect;

import java.util.List;
import java.util.Optional;

/**
 * What a model's files say about it.
 *
 * @param name the model's name for the table (spaces and commas replaced)
 * @param aliases aliases the files give (a synthetic model's config.json); --alias adds more
 * @param source the file or folder inspected
 * @param format safetensors, gguf, …
 * @param parameters parameters (packed quantized weights counted as the values they hold)
 * @param dtype the storage: the main dtype or quantization, e.g. BF16, 4-bit (group 64), Q4_K + Q6_K
 * @param weightBytes the bytes of every tensor, as they lie on disk: what loading puts in memory
 * @param kvBytesPerToken KV cache per token of context, when the architecture is known
 * @param contextTokens the longest context, 0 when unknown
 * @param kvAtContext KV bytes at the full context (windowed layers capped), when known
 * @param bytesRead how much of the files was read to find all this
 */
public record Inspection(String name, List<String> aliases, String source, String format, long parameters, String dtype, long weightBytes,
    Optional<Long> kvBytesPerToken, long contextTokens, Optional<Long> kvAtContext, long bytesRead) {

  /** Weights plus the KV cache of one request at the full context, when the KV is known. */
  public Optional<Long> residentAtFullContext() {
    return kvAtContext.map(kv -> weightBytes + kv);
  }
}
