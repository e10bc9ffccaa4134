package io.mlxcap.cli;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.sim.HostProfile;
import java.time.Duration;
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

  @Option(names = "--load-overhead", converter = DurationConverter.class, paramLabel = "DURATION",
      description = "Fixed time of every load. Default: 1s.")
  Duration overhead;

  @Option(names = "--load-transient", paramLabel = "FRACTION",
      description = "Extra memory a load holds while in progress, as a fraction of the model. Default: 0.")
  Double transientFraction;

  @Option(names = "--ram-line", paramLabel = "SIZE",
      description = "Report how long RSS stays above this. Default: host RAM minus --host-other.")
  String ramLine;

  HostProfile profile() {
    HostProfile d = HostProfile.DEFAULT;
    return new HostProfile(size(ram, "--host-ram", d.ramBytes()), size(other, "--host-other", d.otherBytes()),
        size(base, "--runtime-base", d.runtimeBaseBytes()),
        bandwidth == null ? d.loadBytesPerSecond() : size(bandwidth, "--load-bandwidth", 0),
        overhead == null ? d.loadOverhead() : overhead, transientFraction == null ? d.loadTransient() : transientFraction);
  }

  long ramLine(HostProfile host) {
    return size(ramLine, "--ram-line", io.mlxcap.sim.Prediction.defaultRamLine(host));
  }

  private static long size(String text, String option, long fallback) {
    if (text == null) {
      return fallback;
    }
    try {
      return ByteSize.parse(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(option + " '" + text + "': " + e.getMessage());
    }
  }
}
