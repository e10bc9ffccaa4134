package io.mlxcap.sweep;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.sim.HostParameter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The axes of a sweep and their cartesian product, the last axis varying fastest. */
public final class Grid {
  /** Configurations a sweep runs without {@code --force}. */
  public static final long MAX_WITHOUT_FORCE = 100_000;

  private final List<Axis> axes;

  /**
   * A grid of {@code axes}, each value checked on its own against {@code table}.
   *
   * @throws InvalidInputException for no axes, an axis named twice or a bad value
   */
  public Grid(List<Axis> axes, ModelTable table) {
    this(axes, io.mlxcap.settings.ServerPolicy.MLX, table);
  }

  /** A grid of {@code policy}'s settings (and host parameters). */
  public Grid(List<Axis> axes, io.mlxcap.settings.ServerPolicy policy, ModelTable table) {
    if (axes.isEmpty()) {
      throw new InvalidInputException("the grid is empty; give at least one --grid NAME=VALUES, e.g. --grid MLX_MAX_CACHED_MODELS=1..4");
    }
    Set<String> names = new HashSet<>();
    for (Axis axis : axes) {
      if (!names.add(axis.name())) {
        throw new InvalidInputException("--grid " + axis.name() + " is given twice; put all its values on one axis");
      }
      axis.check(policy, table);
    }
    this.axes = List.copyOf(axes);
  }

  public List<Axis> axes() {
    return axes;
  }

  /** How many configurations the grid holds (saturating at Long.MAX_VALUE). */
  public long size() {
    long n = 1;
    for (Axis axis : axes) {
      n = Math.multiplyHigh(n, axis.values().size()) != 0 ? Long.MAX_VALUE : n * axis.values().size();
    }
    return n;
  }

  /** Refuses a grid past {@link #MAX_WITHOUT_FORCE} configurations unless {@code force}. */
  public void checkSize(boolean force) {
    long n = size();
    if (n > MAX_WITHOUT_FORCE && !force) {
      throw new InvalidInputException(String.format(java.util.Locale.ROOT,
          "the grid holds %,d configurations, more than %,d; narrow an axis or add --force", n, MAX_WITHOUT_FORCE));
    }
  }

  /** Every configuration, in order: the first axis varies slowest. */
  public List<Configuration> configurations() {
    int n = (int) Math.min(size(), Integer.MAX_VALUE - 8);
    List<Configuration> all = new ArrayList<>(n);
    int[] at = new int[axes.size()];
    for (int k = 0; k < n; k++) {
      Map<String, String> settings = new LinkedHashMap<>();
      Map<HostParameter, String> host = new EnumMap<>(HostParameter.class);
      for (int a = 0; a < axes.size(); a++) {
        Axis axis = axes.get(a);
        String value = axis.values().get(at[a]);
        if (axis.isSetting()) {
          settings.put(axis.name(), value);
        } else {
          host.put(axis.host().orElseThrow(), value);
        }
      }
      all.add(Configuration.of(settings, host));
      for (int a = axes.size() - 1; a >= 0; a--) {
        if (++at[a] < axes.get(a).values().size()) {
          break;
        }
        at[a] = 0;
      }
    }
    return all;
  }
}
