package io.mlxcap.cli;

import io.mlxcap.settings.ServerPolicy;
import picocli.CommandLine.Option;

/** {@code --policy}: whose server's rules and settings a command runs, for {@code simulate} and {@code sweep}. */
final class PolicyOption {
  @Option(names = "--policy", paramLabel = "NAME", defaultValue = "mlx",
      description = "Whose server: mlx (every MLX_* setting), mlx-seed (the seed's three variables and its 95 %% rule) "
          + "or ollama (OLLAMA_MAX_LOADED_MODELS, OLLAMA_KEEP_ALIVE, OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE; the idle "
          + "model with the shortest keep-alive goes first). --set and --grid take that policy's names; the trace "
          + "header's MLX_* settings apply where the policy has them. Default: ${DEFAULT-VALUE}.")
  String name;

  /** The policy named, or one sentence listing the known ones. */
  ServerPolicy policy() {
    return ServerPolicy.named(name);
  }
}
