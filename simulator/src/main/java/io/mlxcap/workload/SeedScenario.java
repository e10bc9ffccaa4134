package io.mlxcap.workload;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seed's story as a day of traffic: the light {@code fast} model and the 32b {@code default}
 * busy all day, the 70b {@code reasoning} model asked now and then, the 104b rarely.
 *
 * <p>Arrivals follow the working day (diurnal, mean 0.03 requests/s — about 2,600 a day — peak at
 * 14:00, quiet at night), so a large model loaded in the afternoon can sit idle through the night:
 * what the seed's cleanup settings are about. Shares: fast 55 %, default 37 %, reasoning 7 %, 104b
 * 1 % (about 25 a day). With one worker and the built-in model speeds the busiest hour keeps the
 * worker a little over half busy, as a team's shared server would be.
 */
public final class SeedScenario {
  /** The date of the seed note; the scenario's day starts at its midnight. */
  public static final String STARTED_AT = "2026-01-29T00:00:00Z";
  public static final long SEED = 20260129L;

  private SeedScenario() {}

  /** The scenario's spec. */
  public static WorkloadSpec spec() {
    Map<String, Double> shares = new LinkedHashMap<>();
    shares.put("fast", 0.55);
    shares.put("default", 0.37);
    shares.put("reasoning", 0.07);
    shares.put("command-r-plus:104b", 0.01);
    return new WorkloadSpec(ArrivalProcess.Kind.DIURNAL, 0.03, Duration.ofMinutes(5), Duration.ofMinutes(20), 0.8, 14,
        Duration.ofDays(1), shares, new WorkloadSpec.TokenDistribution(600, 1.0),
        new WorkloadSpec.TokenDistribution(250, 0.8), SEED);
  }
}
