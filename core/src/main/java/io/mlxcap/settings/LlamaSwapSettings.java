package io.mlxcap.settings;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.ManualLoads;
import io.mlxcap.cache.ModelGroups;
import io.mlxcap.cache.UnsetKeepAlive;
import io.mlxcap.cache.VictimOrder;
import io.mlxcap.cache.Waiters;
import io.mlxcap.model.ModelTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * llama-swap's {@code config.yaml} keys that decide what stays loaded, read as
 * {@code internal/config} at mostlygeek/llama-swap@0bdb372 reads them:
 *
 * <ul>
 *   <li>{@code groups}: its groups in one line, {@code NAME[FLAGS]=MODEL,MODEL;...}, the flags
 *       {@code swap}/{@code no-swap}, {@code exclusive}/{@code no-exclusive}, {@code persistent} (a
 *       group's defaults are swap and exclusive, not persistent, as {@code GroupConfig.UnmarshalYAML}
 *       sets them); models in no group are in {@code (default)}, which swaps and is exclusive: with no
 *       groups, one model at a time.
 *   <li>{@code globalTTL} (seconds, default 0: never): how long a model may stay idle (every model's
 *       {@code ttl} that is not set).
 *   <li>{@code ttl}: the models with a {@code ttl} of their own, {@code MODEL=SECONDS,...} (0: never
 *       unload); a model's unset {@code ttl} (-1) is {@code globalTTL} ({@code load.go} 138–145).
 *   <li>{@code concurrencyLimit} (default 10, {@code defaultConcurrencyLimit} in fifo.go): requests
 *       admitted per model, queued or in flight; the next is refused (429).
 * </ul>
 */
final class LlamaSwapSettings {
  static final String GROUPS = "groups";
  static final String TTL = "globalTTL";
  static final String LIMIT = "concurrencyLimit";
  static final String MODEL_TTL = "ttl";
  static final List<String> VARIABLES = List.of(GROUPS, TTL, LIMIT, MODEL_TTL);

  /** How often the shells look for expired models. */
  static final Duration EXPIRY_CHECK = Duration.ofSeconds(1);

  private LlamaSwapSettings() {}

  static Settings read(Map<String, String> env, ModelTable table) {
    ModelGroups groups = readGroups(env.getOrDefault(GROUPS, "").strip(), m -> table.resolve(m).name());
    long ttl = ServerValues.whole(env, TTL, 0, 0,
        "llama-swap's " + TTL + " is a whole number of seconds >= 0 (0: never unload).");
    long limit = ServerValues.whole(env, LIMIT, 10, 1, "llama-swap's " + LIMIT + " is a whole number >= 1.");
    CachePolicy policy = new CachePolicy(CachePolicy.UNLIMITED_MODELS, CachePolicy.UNLIMITED_BYTES,
        ttl == 0 ? CachePolicy.NO_IDLE_TTL : Duration.ofSeconds(ttl), CachePolicy.NO_PRESSURE_THRESHOLD)
        .withRules(VictimOrder.LEAST_RECENTLY_USED, UnsetKeepAlive.RESETS, ManualLoads.EVICTABLE)
        .withSwapping(groups, Waiters.EACH_ON_ITS_OWN, (int) Math.min(limit, Integer.MAX_VALUE))
        .withModelTtls(readModelTtls(env.getOrDefault(MODEL_TTL, "").strip(), table));
    // llama-swap has no worker pool of its own: what it admits goes to the upstream at once.
    return new Settings(policy, EXPIRY_CHECK, List.of(), Integer.MAX_VALUE, 0, ServerPolicy.LLAMA_SWAP);
  }

  static Map<String, String> write(Settings s) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(GROUPS, writeGroups(s.cache().groups()));
    env.put(TTL, s.cache().idleTtl().equals(CachePolicy.NO_IDLE_TTL) ? "0" : Long.toString(s.cache().idleTtl().toSeconds()));
    env.put(LIMIT, Integer.toString(s.cache().perModelRequests()));
    List<String> own = new ArrayList<>();
    new TreeMap<>(s.cache().modelTtls()).forEach((m, d) ->
        own.add(m + "=" + (d.equals(CachePolicy.NO_IDLE_TTL) ? 0 : d.toSeconds())));
    env.put(MODEL_TTL, String.join(",", own));
    return env;
  }

  /** {@code MODEL=SECONDS,...}: each model's own ttl, 0 never unloading it, as its config reads it. */
  private static Map<String, Duration> readModelTtls(String raw, ModelTable table) {
    Map<String, Duration> ttls = new TreeMap<>();
    for (String entry : raw.split(",")) {
      String e = entry.strip();
      if (e.isEmpty()) {
        continue;
      }
      int eq = e.indexOf('=');
      long seconds = -1;
      try {
        seconds = eq <= 0 ? -1 : Long.parseLong(e.substring(eq + 1).strip());
      } catch (NumberFormatException x) {
        // refused below
      }
      if (seconds < 0) {
        throw new InvalidInputException(MODEL_TTL + "='" + raw + "' is invalid: '" + e + "' is not MODEL=SECONDS with"
            + " a whole number of seconds >= 0 (0: never unload), as a model's ttl in llama-swap's config.");
      }
      String model;
      try {
        model = table.resolve(e.substring(0, eq).strip()).name();
      } catch (InvalidInputException x) {
        throw new InvalidInputException(MODEL_TTL + "='" + raw + "' is invalid: " + x.getMessage());
      }
      ttls.put(model, seconds == 0 ? CachePolicy.NO_IDLE_TTL : Duration.ofSeconds(seconds));
    }
    return ttls;
  }

  private static ModelGroups readGroups(String raw, java.util.function.UnaryOperator<String> resolve) {
    Map<ModelGroups.Group, List<String>> members = new LinkedHashMap<>();
    if (raw.isEmpty()) {
      return ModelGroups.of(members);
    }
    for (String entry : raw.split(";")) {
      String e = entry.strip();
      if (e.isEmpty()) {
        continue;
      }
      int eq = e.indexOf('=');
      if (eq <= 0) {
        throw badGroups(raw, "'" + e + "' is not NAME[FLAGS]=MODEL,MODEL");
      }
      String head = e.substring(0, eq).strip();
      String name = head;
      boolean swap = true;
      boolean exclusive = true;
      boolean persistent = false;
      int bracket = head.indexOf('[');
      if (bracket >= 0) {
        if (!head.endsWith("]")) {
          throw badGroups(raw, "'" + head + "' opens [ and does not close it");
        }
        name = head.substring(0, bracket).strip();
        for (String flag : head.substring(bracket + 1, head.length() - 1).split(",")) {
          switch (flag.strip()) {
            case "swap" -> swap = true;
            case "no-swap" -> swap = false;
            case "exclusive" -> exclusive = true;
            case "no-exclusive" -> exclusive = false;
            case "persistent" -> persistent = true;
            case "no-persistent" -> persistent = false;
            case "" -> { }
            default -> throw badGroups(raw, "'" + flag.strip() + "' is not a flag (swap, no-swap, exclusive, no-exclusive,"
                + " persistent)");
          }
        }
      }
      if (name.isEmpty()) {
        throw badGroups(raw, "a group needs a name");
      }
      List<String> models = new ArrayList<>();
      for (String m : e.substring(eq + 1).split(",")) {
        if (!m.isBlank()) {
          try {
            models.add(resolve.apply(m.strip()));
          } catch (InvalidInputException x) {
            throw badGroups(raw, x.getMessage());
          }
        }
      }
      members.put(new ModelGroups.Group(name, swap, exclusive, persistent), models);
    }
    try {
      return ModelGroups.of(members);
    } catch (IllegalArgumentException x) {
      throw badGroups(raw, x.getMessage() + " (llama-swap refuses that too)");
    }
  }

  /**
   * How a llama-swap user sets {@code name} to {@code value} (as {@link #write} wrote it): its
   * {@code config.yaml} lines.
   */
  static List<String> howToSet(String name, String value) {
    List<String> lines = new ArrayList<>();
    switch (name) {
      case GROUPS -> {
        lines.add("groups:   # config.yaml");
        Map<String, ModelGroups.Group> byName = new TreeMap<>();
        Map<String, List<String>> members = new TreeMap<>();
        readGroups(value, m -> m).byModel().forEach((m, g) -> {
          byName.put(g.name(), g);
          members.computeIfAbsent(g.name(), k -> new ArrayList<>()).add(m);
        });
        byName.forEach((group, g) -> {
          List<String> ms = new ArrayList<>(members.get(group));
          java.util.Collections.sort(ms);
          lines.add("  " + group + ":");
          lines.add("    swap: " + g.swap());
          lines.add("    exclusive: " + g.exclusive());
          lines.add("    persistent: " + g.persistent());
          lines.add("    members: [" + String.join(", ", ms) + "]");
        });
      }
      case TTL -> lines.add("globalTTL: " + value + "   # config.yaml");
      case MODEL_TTL -> {
        for (String e : value.split(",")) {
          if (!e.isBlank()) {
            lines.add("# config.yaml, models." + e.substring(0, e.indexOf('=')) + ": ttl: " + e.substring(e.indexOf('=') + 1));
          }
        }
      }
      default -> lines.add("# config.yaml, every model: concurrencyLimit: " + value);
    }
    return lines;
  }

  private static InvalidInputException badGroups(String raw, String why) {
    return new InvalidInputException(GROUPS + "='" + raw + "' is invalid: " + why + "; write NAME[FLAGS]=MODEL,MODEL;..."
        + " with the flags swap, no-swap, exclusive, no-exclusive, persistent.");
  }

  /** The groups in the form {@link #readGroups} reads, groups and their models sorted, flags only where not the default. */
  static String writeGroups(ModelGroups groups) {
    Map<String, ModelGroups.Group> byName = new TreeMap<>();
    Map<String, List<String>> models = new TreeMap<>();
    groups.byModel().forEach((m, g) -> {
      byName.put(g.name(), g);
      models.computeIfAbsent(g.name(), k -> new ArrayList<>()).add(m);
    });
    List<String> parts = new ArrayList<>();
    byName.forEach((name, g) -> {
      List<String> flags = new ArrayList<>();
      if (!g.swap()) {
        flags.add("no-swap");
      }
      if (!g.exclusive()) {
        flags.add("no-exclusive");
      }
      if (g.persistent()) {
        flags.add("persistent");
      }
      List<String> ms = new ArrayList<>(models.get(name));
      java.util.Collections.sort(ms);
      parts.add(name + (flags.isEmpty() ? "" : "[" + String.join(",", flags) + "]") + "=" + String.join(",", ms));
    });
    return String.join(";", parts);
  }
}
