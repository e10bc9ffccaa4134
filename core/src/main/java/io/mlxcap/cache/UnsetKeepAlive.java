package io.mlxcap.cache;

/** What a request that asks for no keep-alive does to the keep-alive of the model it uses. */
public enum UnsetKeepAlive {
  /** It sets the model back to the policy's idle TTL (mlx: every request states its own). */
  RESETS,
  /**
   * It leaves the model's keep-alive as the last request that asked for one set it: Ollama's
   * {@code useLoadedRunner} changes a runner's session duration only when the request carries one
   * ({@code server/sched.go} at ollama/ollama@fb30760, lines 475–490); a new runner starts at
   * {@code OLLAMA_KEEP_ALIVE}, the policy's idle TTL here.
   */
  STAYS
}
