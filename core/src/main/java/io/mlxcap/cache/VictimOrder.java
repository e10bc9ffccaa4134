package io.mlxcap.cache;

/**
 * The order in which a policy gives up idle models when it needs room: the one rule that differs most
 * between multi-model servers. Whatever the order, only idle models (resident and unpinned) are taken,
 * and the core plans the victims before it evicts any.
 */
public enum VictimOrder {
  /**
   * Least recently used first: the seed's MLX server, llama.cpp's router and LocalAI. A use is a
   * request acquiring or releasing the model; the end of a load is not a use.
   */
  LEAST_RECENTLY_USED,
  /**
   * Shortest keep-alive first, then by name: Ollama's {@code findRunnerToUnload}, which sorts its
   * runners with {@code ByDurationAndName} (the session duration compared as an unsigned number, so
   * "forever" sorts last; ties by model path) and takes the first idle one. Read from
   * {@code server/sched.go} at ollama/ollama@fb30760 (lines 1557–1580 and 1664–1692); recency plays
   * no part.
   */
  SHORTEST_KEEP_ALIVE,
  /**
   * The model whose latest request started on it longest ago goes first, ties by name: llama.cpp's
   * router ({@code unload_lru} in {@code tools/server/server-models.cpp} at
   * ggml-org/llama.cpp@00dd081) unloads the running model with the smallest {@code last_used}, which
   * {@code load} sets when a load starts and {@code proxy_request} sets when a request is handed to
   * the model (on a hit, or when the load it waited for ends); the end of a request does not count.
   * It scans models in name order and keeps the first strictly smaller time, so a tie goes to the
   * first name.
   */
  LEAST_RECENTLY_STARTED,
  /**
   * The largest model first, ties least recently used first: LocalAI's size-aware eviction
   * ({@code LOCALAI_SIZE_AWARE_EVICTION}; {@code EnforceLRULimit} and {@code evictLRUModel} in
   * {@code pkg/model/watchdog.go} at mudler/LocalAI@82c191a sort by size, largest first, then by
   * {@code lastUsed}), which keeps small utility models resident and frees the most per eviction.
   * mlxcap weighs a model by the bytes it holds (LocalAI by its file's size).
   */
  LARGEST_FIRST;

  /** Returns the name settings and traces use, e.g. {@code shortest_keep_alive}. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
