package io.mlxcap.sim;

import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import java.util.function.Supplier;

/**
 * A simulation run three times, with every model at the low, expected and high end of its size
 * range: peaks come with bounds; latencies are read from the expected run.
 */
public record Prediction(Settings settings, ModelTable table, HostProfile host, SimResult low, SimResult expected,
    SimResult high) {

  /** Runs the three passes; {@code source} gives a fresh pass over the same requests each time. */
  public static Prediction of(Settings settings, ModelTable table, HostProfile host, long ramLine,
      Supplier<RequestSource> source) {
    SimResult[] results = new SimResult[3];
    for (SizeRange.Estimate estimate : SizeRange.Estimate.values()) {
      try (RequestSource requests = source.get()) {
        results[estimate.ordinal()] = new Simulation(settings, table, host, estimate, ramLine).run(requests);
      }
    }
    return new Prediction(settings, table, host, results[0], results[1], results[2]);
  }

  /** The RSS line whose crossing time is reported when none is given: the RAM the rest of the host leaves. */
  public static long defaultRamLine(HostProfile host) {
    return host.ramBytes() - host.otherBytes();
  }
}
