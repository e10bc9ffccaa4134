package io.mlxcap.cli;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.calibrate.Profile;
import java.nio.file.Path;
import io.mlxcap.sim.HostParameter;
import io.mlxcap.sim.HostProfile;
import java.util.EnumMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options describing the host a simulation runs on; each defaults to {@link HostProfile#DEFAULT}. */
final class HostOptions {
  @Option(names = "--host-ram", paramLabel = "SIZE", description = "Host RAM. Default: 128GiB (the seed's machine).")
  String ram;

  @Option(names = "--host-other", paramLabel = "SIZE", description = "RAM used by everything but the server. Default: 8GiB.")
  String other;

  @Option(names = "--runtime-base", paramLabel = "SIZE", description = "The server process with no model loaded. Default: 1GB.")
  String base;

  @Option(names = "--load-bandwidth", paramLabel = "SIZE", description = "Bytes of model made resident per second. Default: 2GB.")
  String bandwidth;

  @Option(names = "--load-overhead", paramLabel = "DURATION", description = "Fixed time of every load. Default: 1s.")
  String overhead;

  @Option(names = "--profile", paramLabel = "FILE",
      description = "A host profile from calibrate: its measured host, load and memory figures replace the defaults, "
          + "and its models' measured bytes and rates replace the table's; options given here still win.")
  Path profileFile;

  @Option(names = "--load-growth", paramLabel = "SIZE",
      description = "What the process keeps after each load beyond the model (calibrate measures it). Default: 0.")
  String growth;

  @Option(names = "--load-transient", paramLabel = "FRACTION",
      description = "Extra memory a load holds while in progress, as a fraction of the model. Default: 0.")
  String transientFraction;

  @Option(names = "--ram-line", paramLabel = "SIZE",
      description = "Report how long RSS stays above this. Default: host RAM minus --host-other.")
  String ramLine;

  /** The values given, by parameter, as written. */
  Map<HostParameter, String> given() {
    Map<HostParameter, String> given = new EnumMap<>(HostParameter.class);
    put(given, HostParameter.HOST_RAM, ram);
    put(given, HostParameter.HOST_OTHER, other);
    put(given, HostParameter.RUNTIME_BASE, base);
    put(given, HostParameter.LOAD_BANDWIDTH, bandwidth);
    put(given, HostParameter.LOAD_OVERHEAD, overhead);
    put(given, HostParameter.LOAD_TRANSIENT, transientFraction);
    put(given, HostParameter.LOAD_GROWTH, growth);
    return given;
  }

  private static void put(Map<HostParameter, String> given, HostParameter p, String value) {
    if (value != null) {
      given.put(p, value);
    }
  }

  HostProfile profile() {
    return HostParameter.profile(calibrated().map(Profile::host).orElse(HostProfile.DEFAULT), given());
  }

  private Profile calibrated;

  /** The profile of --profile, read once. */
  java.util.Optional<Profile> calibrated() {
    if (profileFile != null && calibrated == null) {
      calibrated = Profile.read(profileFile);
    }
    return java.util.Optional.ofNullable(calibrated);
  }

  /** {@code table} with the measured model figures of --profile, if given. */
  io.mlxcap.model.ModelTable models(io.mlxcap.model.ModelTable table) {
    return calibrated().map(p -> p.applyTo(table)).orElse(table);
  }

  /** The RAM line given, or {@code fallback}. */
  long ramLine(long fallback) {
    if (ramLine == null) {
      return fallback;
    }
    try {
      return ByteSize.parse(ramLine);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("--ram-line '" + ramLine + "': " + e.getMessage());
    }
  }

  long ramLine(HostProfile host) {
    return ramLine(io.mlxcap.sim.Prediction.defaultRamLine(host));
  }
}
