package io.mlxcap.model;

import java.util.List;
import java.util.Objects;

/**
 * One model a server can load: its canonical name, the aliases it answers to, its size in RAM and how
 * it serves.
 */
public record ModelSpec(String name, List<String> aliases, SizeRange size, Performance performance) {

  /** A model with {@link Performance#DEFAULT} performance. */
  public ModelSpec(String name, List<String> aliases, SizeRange size) {
    this(name, aliases, size, Performance.DEFAULT);
  }

  public ModelSpec {
    requireName(name, "a model name");
    Objects.requireNonNull(size, "size");
    Objects.requireNonNull(performance, "performance");
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

  /** Returns {@code name (alias, …)} as people read it in lists. */
  public String describe() {
    return aliases.isEmpty() ? name : name + " (" + String.join(", ", aliases) + ")";
  }
}
