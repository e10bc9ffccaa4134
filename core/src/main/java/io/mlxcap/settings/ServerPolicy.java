package io.mlxcap.settings;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.UnsetKeepAlive;
import io.mlxcap.cache.VictimOrder;
import io.mlxcap.model.ModelTable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Whose server the settings describe: each policy reads its own variables, under that server's names
 * and defaults, into the one {@link Settings} the core and both shells run on, and writes them back
 * in its own names for reports and traces.
 *
 * <p>A policy is the same core with its {@link VictimOrder}, {@link UnsetKeepAlive} and limits; no
 * policy has a cache of its own. What each one models, and what it does not yet, is in README's
 * "Servers" table.
 */
public enum ServerPolicy {
  /** mlxcap's reference server: every {@code MLX_*} setting. */
  MLX("mlx", List.of(Setting.values()).stream().map(Enum::name).toList()),
  /**
   * The seed note's Python server: only its three variables, with the 95 % pressure rule, one worker
   * and nothing opt-in.
   */
  MLX_SEED("mlx-seed", List.of(Setting.MLX_MAX_CACHED_MODELS.name(), Setting.MLX_CACHE_CLEANUP_INTERVAL_SEC.name(),
      Setting.MLX_PRELOAD_MODELS.name())),
  /**
   * Ollama's scheduler ({@code server/sched.go} and {@code envconfig/config.go} at
   * ollama/ollama@fb30760): {@code OLLAMA_MAX_LOADED_MODELS}, {@code OLLAMA_KEEP_ALIVE},
   * {@code OLLAMA_NUM_PARALLEL}, {@code OLLAMA_MAX_QUEUE}.
   */
  OLLAMA("ollama", OllamaSettings.VARIABLES),
  /**
   * llama.cpp's {@code llama-server} in router mode ({@code tools/server/server-models.cpp} at
   * ggml-org/llama.cpp@00dd081): {@code models-max}, {@code sleep-idle-seconds}, {@code parallel}.
   */
  LLAMA_ROUTER("llama-router", LlamaRouterSettings.VARIABLES),
  /**
   * LM Studio's server with just-in-time loading (its documentation: LM Studio is not open source):
   * {@code auto-evict}, {@code idle-ttl}, {@code max-concurrent-predictions}, {@code lms-load}.
   */
  LMSTUDIO("lmstudio", LmStudioSettings.VARIABLES),
  /**
   * llama-swap with its groups ({@code internal/router} and {@code internal/config} at
   * mostlygeek/llama-swap@0bdb372): {@code groups}, {@code globalTTL}, {@code concurrencyLimit}.
   */
  LLAMA_SWAP("llama-swap", LlamaSwapSettings.VARIABLES),
  /**
   * LocalAI's model loader and watchdog ({@code pkg/model} and {@code core/cli/run.go} at
   * mudler/LocalAI@82c191a): {@code LOCALAI_MAX_ACTIVE_BACKENDS}, the busy retries, size-aware
   * eviction, the idle watchdog, the memory reclaimer, {@code LOCALAI_LOAD_TO_MEMORY} and pinned models.
   */
  LOCALAI("localai", LocalAiSettings.VARIABLES);

  private final String id;
  private final List<String> variables;

  ServerPolicy(String id, List<String> variables) {
    this.id = id;
    this.variables = variables;
  }

  /** The name {@code --policy} takes, e.g. {@code ollama}. */
  public String id() {
    return id;
  }

  /** The variables this policy reads, in the order it writes them. */
  public List<String> variables() {
    return variables;
  }

  /** Returns the policy called {@code name}, or says which policies there are. */
  public static ServerPolicy named(String name) {
    return Arrays.stream(values()).filter(p -> p.id.equals(name.strip().toLowerCase(Locale.ROOT))).findFirst()
        .orElseThrow(() -> new InvalidInputException("--policy " + name + ": not a policy mlxcap knows; policies: "
            + String.join(", ", Arrays.stream(values()).map(ServerPolicy::id).toList()) + "."));
  }

  /**
   * The policy whose settings {@code env} holds: a trace header holds its policy's variables (what
   * {@link Settings#toEnv} writes), so a recording says whose server made it. A map naming an Ollama
   * variable is Ollama's; any other is mlx's, including the seed's three variables alone (a header
   * written by hand, or by {@code serve --policy mlx-seed}, whose rules mlx runs with the same
   * values: the seed's fixed ones are mlx's defaults), so that {@code --set} of any MLX_* setting
   * works on it. The other policies' names do not overlap.
   */
  public static ServerPolicy of(Map<String, String> env) {
    for (ServerPolicy p : List.of(OLLAMA, LLAMA_ROUTER, LMSTUDIO, LLAMA_SWAP, LOCALAI)) {
      if (env.keySet().stream().anyMatch(p::reads)) {
        return p;
      }
    }
    return MLX;
  }

  /**
   * Whether a load that does not fit in the host's memory fails, as against going over it (and the
   * pressure rule or the host's swap dealing with it): llama.cpp's router spawns a child without
   * looking at free memory, and the child's allocation fails.
   */
  public boolean failsLoadsThatDoNotFit() {
    return this == LLAMA_ROUTER;
  }

  /** The first policy that reads {@code variable}, if any. */
  public static Optional<ServerPolicy> owning(String variable) {
    return Arrays.stream(values()).filter(p -> p.variables.contains(variable)).findFirst();
  }

  /**
   * How a user of this server sets {@code changed} (variable to value, in this policy's names): the
   * lines a report gives to copy. Environment variables for mlx, Ollama and LocalAI (a model's YAML for LocalAI's pinned), llama-server's flags for the
   * router, LM Studio's switches (it has no variables) and {@code lms load} for its manual loads.
   */
  public List<String> howToSet(Map<String, String> changed) {
    List<String> lines = new java.util.ArrayList<>();
    switch (this) {
      case MLX, MLX_SEED, OLLAMA -> changed.forEach((k, v) -> lines.add("export " + k + "=" + (v.isEmpty() ? "''" : v)));
      case LOCALAI -> changed.forEach((k, v) -> lines.addAll(LocalAiSettings.howToSet(k, v)));
      case LLAMA_ROUTER -> {
        StringBuilder line = new StringBuilder("llama-server --models-dir DIR");
        changed.forEach((k, v) -> line.append(" --").append(k).append(' ').append(v));
        lines.add(line.append("   # router mode: no --model").toString());
      }
      case LLAMA_SWAP -> changed.forEach((k, v) -> lines.addAll(LlamaSwapSettings.howToSet(k, v)));
      case LMSTUDIO -> changed.forEach((k, v) -> {
        switch (k) {
          case LmStudioSettings.AUTO_EVICT ->
              lines.add("# Developer > Server Settings: Auto-Evict (only keep last JIT loaded model) " + v);
          case LmStudioSettings.IDLE_TTL -> lines.add(v.equals("off")
              ? "# Developer > Server Settings: Auto unload unused JIT loaded models off"
              : "# Developer > Server Settings: Auto unload unused JIT loaded models on, Max idle TTL " + v);
          case LmStudioSettings.PARALLEL -> lines.add("# each model's load settings: Max Concurrent Predictions " + v);
          default -> {
            if (v.isEmpty()) {
              lines.add("# load nothing by hand before the traffic");
            } else {
              for (String model : v.split(",")) {
                lines.add("lms load " + model);
              }
            }
          }
        }
      });
    }
    return lines;
  }

  /** Whether {@code variable} is one of this policy's settings. */
  public boolean reads(String variable) {
    return variables.contains(variable);
  }

  /**
   * Refuses {@code variable} unless this policy reads it, in one sentence naming the policy that does
   * (or the ones there are). {@code where} says where it was given, e.g. {@code --set}.
   */
  public void check(String where, String variable) {
    if (reads(variable)) {
      return;
    }
    Optional<ServerPolicy> owner = owning(variable);
    throw new InvalidInputException(where + " " + variable + ": " + (owner.isPresent()
        ? "a setting of policy " + owner.get().id + ", not of " + id + " (use --policy " + owner.get().id + ")"
        : "not a setting mlxcap knows") + "; " + id + "'s settings: " + String.join(", ", variables) + ".");
  }

  /** Reads this policy's variables in {@code env} (others are ignored) into settings. */
  Settings read(Map<String, String> env, ModelTable table) {
    return switch (this) {
      case MLX -> Settings.readMlx(env, table, MLX);
      case MLX_SEED -> {
        Map<String, String> mlx = new LinkedHashMap<>();
        for (String v : variables) {
          if (env.containsKey(v)) {
            mlx.put(v, env.get(v));
          }
        }
        // The seed's server has no other knob: its 95 % rule, one request at a time, nothing opt-in.
        mlx.put(Setting.MLX_MEMORY_PRESSURE_THRESHOLD.name(), "0.95");
        mlx.put(Setting.MLX_MODEL_IDLE_TTL_SEC.name(), "off");
        mlx.put(Setting.MLX_MAX_CACHE_BYTES.name(), "off");
        mlx.put(Setting.MLX_MAX_CONCURRENT_REQUESTS.name(), "1");
        yield Settings.readMlx(mlx, table, MLX_SEED);
      }
      case OLLAMA -> OllamaSettings.read(env);
      case LLAMA_ROUTER -> LlamaRouterSettings.read(env);
      case LMSTUDIO -> LmStudioSettings.read(env, table);
      case LLAMA_SWAP -> LlamaSwapSettings.read(env, table);
      case LOCALAI -> LocalAiSettings.read(env, table);
    };
  }

  /** Writes {@code settings} in this policy's variables. */
  Map<String, String> write(Settings settings) {
    return switch (this) {
      case MLX -> settings.mlxEnv();
      case MLX_SEED -> {
        Map<String, String> all = settings.mlxEnv();
        Map<String, String> own = new LinkedHashMap<>();
        variables.forEach(v -> own.put(v, all.get(v)));
        yield own;
      }
      case OLLAMA -> OllamaSettings.write(settings);
      case LLAMA_ROUTER -> LlamaRouterSettings.write(settings);
      case LMSTUDIO -> LmStudioSettings.write(settings);
      case LLAMA_SWAP -> LlamaSwapSettings.write(settings);
      case LOCALAI -> LocalAiSettings.write(settings);
    };
  }
}
