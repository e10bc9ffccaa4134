package io.mlxcap.cache;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which models may stay loaded together: llama-swap's groups. Every model is in one group (those
 * named in none in a default group that swaps and is exclusive, as llama-swap's
 * {@code AddDefaultGroupToConfig} puts them); running a model first unloads the models its group says
 * must go ({@code groupSwapper.EvictionFor} in {@code internal/router/group.go} at
 * mostlygeek/llama-swap@0bdb372): the other members of its own group when the group swaps, and the
 * members of other groups that are not persistent when its group is exclusive. A model of a group that
 * is not exclusive leaves exclusive groups alone, so the rule is not symmetric.
 *
 * <p>{@link #NONE} is no rule: any models may stay together (every policy but llama-swap).
 */
public final class ModelGroups {
  /** A group's name and its three switches (llama-swap's defaults are swap and exclusive on, persistent off). */
  public record Group(String name, boolean swap, boolean exclusive, boolean persistent) {
    public Group {
      Objects.requireNonNull(name, "name");
    }
  }

  /** The group of models named in no group: llama-swap's {@code (default)}, which swaps and is exclusive. */
  public static final Group DEFAULT = new Group("(default)", true, true, false);

  /** No co-residence rule. */
  public static final ModelGroups NONE = new ModelGroups(Map.of(), false);

  private final Map<String, Group> byModel;
  private final boolean active;

  private ModelGroups(Map<String, Group> byModel, boolean active) {
    this.byModel = byModel;
    this.active = active;
  }

  /** Groups of the models in {@code members} (group to its models); a model named twice is refused. */
  public static ModelGroups of(Map<Group, List<String>> members) {
    Map<String, Group> byModel = new LinkedHashMap<>();
    members.forEach((group, models) -> models.forEach(m -> {
      Group before = byModel.put(m, group);
      if (before != null && !before.equals(group)) {
        throw new IllegalArgumentException("model " + m + " is in two groups: " + before.name() + " and " + group.name());
      }
    }));
    return new ModelGroups(Map.copyOf(byModel), true);
  }

  /** Whether there is a rule at all. */
  public boolean active() {
    return active;
  }

  /** The group of {@code model}: its own, else {@link #DEFAULT}. */
  public Group groupOf(String model) {
    return byModel.getOrDefault(model, DEFAULT);
  }

  /** The groups named, by model: what the settings write back. */
  public Map<String, Group> byModel() {
    return byModel;
  }

  /** Whether {@code other}, loaded, must go before {@code target} may run. */
  public boolean mustGoFor(String target, String other) {
    if (!active || target.equals(other)) {
      return false;
    }
    Group t = groupOf(target);
    Group o = groupOf(other);
    return t.name().equals(o.name()) ? t.swap() : t.exclusive() && !o.persistent();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelGroups g && g.active == active && g.byModel.equals(byModel);
  }

  @Override
  public int hashCode() {
    return byModel.hashCode() * 31 + Boolean.hashCode(active);
  }

  @Override
  public String toString() {
    return active ? "ModelGroups" + byModel : "ModelGroups.NONE";
  }
}
