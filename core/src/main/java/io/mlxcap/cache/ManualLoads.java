package io.mlxcap.cache;

/**
 * What a policy does with the models its operator loaded (the preload list at start, or a load by
 * hand), as against the ones requests loaded on demand.
 */
public enum ManualLoads {
  /** They are models like any other: counted under the cap, expired, evicted (mlx, Ollama, llama.cpp's router). */
  EVICTABLE,
  /**
   * They stay until the operator unloads them: never a victim of the cap, the budget, the idle TTL or
   * memory pressure, and not counted under the count cap, which limits the models loaded on demand
   * only. LM Studio's rule: Auto-Evict and the idle TTL apply to models loaded just in time, and a
   * model loaded with {@code lms load} stays (lmstudio.ai/docs/api/ttl-and-auto-evict).
   */
  KEPT
}
