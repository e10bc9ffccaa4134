package io.mlxcap.cli;

import io.mlxcap.settings.ServerPolicy;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --policy}: whose server's rules and settings a command runs, for {@code simulate} and {@code sweep}. */
final class PolicyOption {
  @Option(names = "--policy", paramLabel = "NAME",
      description = "Whose server: mlx (every MLX_* setting), mlx-seed (the seed's three variables and its 95 %% rule), "
          + "ollama (OLLAMA_MAX_LOADED_MODELS, OLLAMA_KEEP_ALIVE, OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE; the idle "
          + "model with the shortest keep-alive goes first), llama-router (llama-server's models-max, sleep-idle-seconds, "
          + "parallel; a load that does not fit fails), lmstudio (auto-evict, idle-ttl, max-concurrent-predictions, "
          + "lms-load), llama-swap (groups, globalTTL, concurrencyLimit) or localai (LOCALAI_MAX_ACTIVE_BACKENDS, "
          + "LOCALAI_LRU_EVICTION_MAX_RETRIES and _RETRY_INTERVAL, LOCALAI_SIZE_AWARE_EVICTION, LOCALAI_WATCHDOG_IDLE, "
          + "LOCALAI_MEMORY_RECLAIMER, LOCALAI_LOAD_TO_MEMORY, pinned, ...; a load waits for busy models, then goes past "
          + "the limit). --set and --grid take that policy's names; the trace header's settings apply where the policy "
          + "has them. Default: the policy that recorded the trace (its header's settings say whose they are), else mlx.")
  String name;

  /** The policy named, else the one {@code headerSettings} are of; or one sentence listing the known ones. */
  ServerPolicy policy(Map<String, String> headerSettings) {
    return name == null ? ServerPolicy.of(headerSettings) : ServerPolicy.named(name);
  }
}
