package io.mlxcap.sweep;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.ServerPolicy;
import io.mlxcap.settings.Setting;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostParameter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One axis of a sweep grid: a setting of a server policy or a host parameter, and the values it
 * takes, as written ({@code MLX_MAX_CACHED_MODELS=1..4}, {@code MLX_MAX_CACHE_BYTES=off,64GiB},
 * {@code OLLAMA_KEEP_ALIVE=0,5m,-1}, {@code host-ram=64GiB,128GiB}).
 *
 * @param name the variable or host parameter this axis varies
 * @param host the host parameter this axis varies, or empty for a setting (then {@code name} is its variable)
 */
public record Axis(String name, Optional<HostParameter> host, List<String> values) {

  public Axis {
    values = List.copyOf(values);
  }

  /**
   * Reads {@code NAME=V1,V2,...}; a whole-number range {@code A..B} stands for every number in it.
   * Values of {@code MLX_PRELOAD_MODELS} are separated by {@code ;} (a value is itself a list):
   * {@code MLX_PRELOAD_MODELS=;fast;default,fast} is none, fast, and default then fast.
   *
   * @throws InvalidInputException for an unknown name, no values, or a bad range
   */
  /** Whether this axis varies a setting of a policy (else a host parameter). */
  public boolean isSetting() {
    return host.isEmpty();
  }

  public static Axis parse(String text) {
    int eq = text.indexOf('=');
    if (eq <= 0) {
      throw new InvalidInputException("--grid '" + text + "': write NAME=VALUE,VALUE,... e.g. MLX_MAX_CACHED_MODELS=1..4");
    }
    String name = text.substring(0, eq).strip();
    String rest = text.substring(eq + 1);
    Optional<HostParameter> host = HostParameter.named(name);
    if (ServerPolicy.owning(name).isEmpty() && host.isEmpty()) {
      throw new InvalidInputException("--grid " + name + ": not a setting or host parameter; axes: "
          + String.join(", ", java.util.Arrays.stream(Setting.values()).map(Enum::name).toList()) + ", "
          + String.join(", ", java.util.Arrays.stream(HostParameter.values()).map(HostParameter::key).toList()));
    }
    boolean preload = name.equals(Setting.MLX_PRELOAD_MODELS.name());
    LinkedHashSet<String> values = new LinkedHashSet<>();
    for (String part : rest.split(preload ? ";" : ",", -1)) {
      String value = part.strip();
      if (value.isEmpty() && !preload) {
        continue;
      }
      if (value.matches("\\d+\\.\\.\\d+")) {
        String[] bounds = value.split("\\.\\.");
        long from = Long.parseLong(bounds[0]);
        long to = Long.parseLong(bounds[1]);
        if (from > to) {
          throw new InvalidInputException("--grid " + name + ": the range " + value + " goes downwards; write it "
              + to + ".." + from);
        }
        if (to - from > 10_000) {
          throw new InvalidInputException(String.format(java.util.Locale.ROOT,
              "--grid %s: the range %s holds %,d values; an axis holds at most 10,001", name, value, to - from + 1));
        }
        for (long v = from; v <= to; v++) {
          values.add(Long.toString(v));
        }
      } else {
        values.add(value);
      }
    }
    if (values.isEmpty()) {
      throw new InvalidInputException("--grid " + name + ": no values; write e.g. " + name + "=1,2,3");
    }
    return new Axis(name, host, new ArrayList<>(values));
  }

  /** An axis of a host parameter whose values came as a comma-separated option ({@code --host-ram 64GiB,128GiB}). */
  public static Axis ofHost(HostParameter parameter, String commaSeparated) {
    return parse(parameter.key() + "=" + commaSeparated);
  }

  /**
   * Checks every value on its own, so a typo is one sentence before anything runs (a value that is
   * fine alone but refused in combination with another axis is skipped later, not an error).
   */
  public void check(ModelTable table) {
    check(ServerPolicy.MLX, table);
  }

  /** {@link #check(ModelTable)} for a sweep of {@code policy}'s server: a setting of another policy is refused. */
  public void check(ServerPolicy policy, ModelTable table) {
    if (isSetting()) {
      policy.check("--grid", name);
    }
    for (String value : values) {
      try {
        if (isSetting()) {
          Settings.fromEnv(policy, Map.of(name, value), table);
        } else {
          host.orElseThrow().check(value);
        }
      } catch (InvalidInputException e) {
        throw new InvalidInputException("--grid " + name + ": " + e.getMessage());
      }
    }
  }
}
