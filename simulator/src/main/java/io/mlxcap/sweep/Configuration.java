package io.mlxcap.sweep;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.settings.Settings;
import io.mlxcap.sim.HostParameter;
import io.mlxcap.sim.HostProfile;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One point of a sweep: settings and host values on top of a base (the trace's settings and the
 * host options), with a label that says what this point changes.
 *
 * @param label what varies, e.g. {@code MLX_MAX_CACHED_MODELS=2 MLX_MAX_CACHE_BYTES=64GiB}
 * @param settings MLX_* variables set on top of the base settings
 * @param host host parameters set on top of the base host
 */
public record Configuration(String label, Map<String, String> settings, Map<HostParameter, String> host) {

  public Configuration {
    settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    EnumMap<HostParameter, String> copy = new EnumMap<>(HostParameter.class);
    copy.putAll(host);
    host = java.util.Collections.unmodifiableMap(copy);
  }

  /** A configuration labelled by the values it sets, in order. */
  public static Configuration of(Map<String, String> settings, Map<HostParameter, String> host) {
    String label = java.util.stream.Stream.concat(
            settings.entrySet().stream().map(e -> e.getKey() + "=" + show(e.getValue())),
            host.entrySet().stream().map(e -> e.getKey().key() + "=" + e.getValue()))
        .collect(Collectors.joining(" "));
    return new Configuration(label.isEmpty() ? "(base)" : label, settings, host);
  }

  static String show(String value) {
    return value.isEmpty() ? "''" : value;
  }

  /** The settings and host this configuration stands for. */
  public record Resolved(Settings settings, HostProfile host) {}

  /**
   * Applies this configuration to {@code baseEnv} and {@code baseHost}.
   *
   * @throws InvalidInputException when the combination is refused (the sweep skips it with this reason)
   */
  public Resolved resolve(Map<String, String> baseEnv, ModelTable table, HostProfile baseProfile,
      Map<HostParameter, String> baseHost) {
    return resolve(io.mlxcap.settings.ServerPolicy.MLX, baseEnv, table, baseProfile, baseHost);
  }

  /** {@link #resolve(Map, ModelTable, HostProfile, Map)} for {@code policy}'s settings. */
  public Resolved resolve(io.mlxcap.settings.ServerPolicy policy, Map<String, String> baseEnv, ModelTable table,
      HostProfile baseProfile, Map<HostParameter, String> baseHost) {
    Map<String, String> env = new LinkedHashMap<>(baseEnv);
    env.putAll(settings);
    Map<HostParameter, String> hostValues = new EnumMap<>(HostParameter.class);
    hostValues.putAll(baseHost);
    hostValues.putAll(host);
    return new Resolved(Settings.fromEnv(policy, env, table), HostParameter.profile(baseProfile, hostValues));
  }
}
