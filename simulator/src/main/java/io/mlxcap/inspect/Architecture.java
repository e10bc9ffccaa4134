package io.mlxcap.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;

/**
 * What sets a model's KV cache: how many layers keep one, how many key/value heads each has, the head
 * size, the context, and a sliding window if some layers keep only the last tokens.
 *
 * <p>KV bytes per token = 2 (keys and values) × Σ over layers of KV heads × head size × bytes per
 * value. With grouped-query attention the KV heads are fewer than the query heads; with a sliding
 * window, the windowed layers hold at most {@code window} tokens however long the context.
 *
 * @param kvHeadsOverLayers Σ over layers of each layer's KV heads (layers × KV heads when all agree)
 * @param slidingShare the share of {@code kvHeadsOverLayers} in layers that keep a window; 0 when none
 */
record Architecture(int layers, long kvHeadsOverLayers, int headDim, long context, long window, double slidingShare) {

  /** KV bytes for each token of context, at {@code valueBytes} per value (2 for fp16). */
  long kvBytesPerToken(double valueBytes) {
    return Math.round(2 * kvHeadsOverLayers * headDim * valueBytes);
  }

  /** KV bytes for {@code tokens} of context, the windowed layers holding at most the window. */
  long kvBytesAt(long tokens, double valueBytes) {
    double perToken = 2.0 * kvHeadsOverLayers * headDim * valueBytes;
    long windowed = window > 0 ? Math.min(tokens, window) : tokens;
    return Math.round(perToken * ((1 - slidingShare) * tokens + slidingShare * windowed));
  }

  /** From a Hugging Face or MLX config.json (its text_config for a multimodal model); empty without attention figures. */
  static Optional<Architecture> fromConfig(JsonNode config, long contextOverride) {
    JsonNode c = config.has("text_config") && config.get("text_config").isObject() ? config.get("text_config") : config;
    int layers = firstInt(c, "num_hidden_layers", "n_layer", "num_layers");
    int heads = firstInt(c, "num_attention_heads", "n_head");
    int hidden = firstInt(c, "hidden_size", "n_embd", "d_model");
    if (layers <= 0 || heads <= 0) {
      return Optional.empty();
    }
    int kvHeads = firstInt(c, "num_key_value_heads");
    if (kvHeads <= 0) {
      kvHeads = c.path("multi_query").asBoolean(false) ? 1 : heads;
    }
    int headDim = firstInt(c, "head_dim");
    if (headDim <= 0) {
      if (hidden <= 0) {
        return Optional.empty();
      }
      headDim = hidden / heads;
    }
    long context = contextOverride > 0 ? contextOverride
        : firstInt(c, "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length");
    long window = c.path("sliding_window").asLong(0);
    if (c.has("use_sliding_window") && !c.get("use_sliding_window").asBoolean()) {
      window = 0;
    }
    double sliding = 0;
    if (window > 0) {
      JsonNode types = c.get("layer_types");
      int pattern = firstInt(c, "sliding_window_pattern");
      if (pattern <= 0 && c.path("model_type").asText().startsWith("gemma2")) {
        pattern = 2; // Gemma 2 alternates windowed and global layers; its older configs do not say so
      }
      if (types != null && types.isArray() && types.size() > 0) {
        int windowed = 0;
        for (JsonNode t : types) {
          windowed += t.asText().equals("sliding_attention") ? 1 : 0;
        }
        sliding = (double) windowed / types.size();
      } else if (pattern > 1) {
        sliding = (double) (layers - layers / pattern) / layers; // every pattern-th layer sees the whole context
      } else {
        sliding = 1;
      }
    }
    return Optional.of(new Architecture(layers, (long) layers * kvHeads, headDim, Math.max(0, context), window, sliding));
  }

  /** From GGUF metadata ({@code <arch>.block_count}, {@code <arch>.attention.head_count_kv}, …); empty without them. */
  static Optional<Architecture> fromGguf(String arch, Map<String, Object> meta, long contextOverride) {
    long layers = number(meta.get(arch + ".block_count"));
    Object headsValue = meta.get(arch + ".attention.head_count");
    long heads = number(headsValue);
    if (layers <= 0 || heads <= 0 && !(headsValue instanceof long[])) {
      return Optional.empty();
    }
    Object kvValue = meta.getOrDefault(arch + ".attention.head_count_kv", headsValue);
    long kvOverLayers;
    if (kvValue instanceof long[] perLayer) {
      kvOverLayers = 0;
      for (long v : perLayer) {
        kvOverLayers += v;
      }
    } else {
      kvOverLayers = layers * number(kvValue);
    }
    long maxHeads = headsValue instanceof long[] perLayer ? java.util.Arrays.stream(perLayer).max().orElse(0) : heads;
    long headDim = number(meta.get(arch + ".attention.key_length"));
    if (headDim <= 0) {
      long embedding = number(meta.get(arch + ".embedding_length"));
      if (embedding <= 0 || maxHeads <= 0) {
        return Optional.empty();
      }
      headDim = embedding / maxHeads;
    }
    long context = contextOverride > 0 ? contextOverride : Math.max(0, number(meta.get(arch + ".context_length")));
    return Optional.of(new Architecture((int) layers, kvOverLayers, (int) headDim, context, 0, 0));
  }

  private static long number(Object value) {
    return value instanceof Long l ? l : value instanceof Double d ? Math.round(d) : -1;
  }

  private static int firstInt(JsonNode node, String... keys) {
    for (String key : keys) {
      JsonNode v = node.get(key);
      if (v != null && v.isNumber()) {
        return v.asInt();
      }
    }
    return -1;
  }
}
