package io.mlxcap.cli;

import io.mlxcap.ExitCode;
import io.mlxcap.calibrate.Profile;
import io.mlxcap.calibrate.Validation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap validate}: a recording replayed and compared with what the server observed. */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Replay a trace recorded by mlxcap serve under its own settings and arrivals (with a host profile "
        + "from calibrate, if given) and print, beside what the server observed: whether the loads and evictions are "
        + "identical (else the first divergence, both sides shown); peak and mean RSS and time over the RAM line; "
        + "cold-start wait and latency p50 and p95; counts of loads, evictions, cold starts and refusals; each with "
        + "its error, and each model's loads and evictions. A cold start is a request whose model was not resident when it got its worker, "
        + "as the simulator counts it. With --timing recorded the replay takes each load's and each service's time and the cleanup "
        + "ticks from the recording, so its decisions must be the server's at any number of workers; with --timing predicted "
        + "(the default) they come from the profile, as in a prediction made before the run, and where the decisions part validate "
        + "says whether it was a race (two models last used closer together than their timing varies), and splits the error by term: "
        + "the waits and latencies again with the loads as recorded (what is left is the services') and with the services as "
        + "recorded (the loads'), shown, not held to the tolerances. Exits 1 when peak RSS, a "
        + "cold-start wait or a latency is outside its tolerance, or, with recorded timing, when the decisions differ.")
final class ValidateCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", required = true, paramLabel = "FILE", description = "A trace recorded by mlxcap serve.")
  Path trace;

  @Option(names = "--profile", paramLabel = "FILE", description = "A host profile from calibrate. Default: none (the simulator's defaults).")
  Path profile;

  @Option(names = "--tolerance", defaultValue = "5", paramLabel = "PERCENT",
      description = "Largest peak-RSS error that passes, in percent. Default: ${DEFAULT-VALUE}.")
  double rssTolerance;

  @Option(names = "--wait-tolerance", defaultValue = "10", paramLabel = "PERCENT",
      description = "Largest cold-start-wait (p50, p95) error that passes, in percent. Default: ${DEFAULT-VALUE}.")
  double waitTolerance;

  @Option(names = "--latency-tolerance", defaultValue = "10", paramLabel = "PERCENT",
      description = "Largest latency (p50, p95) error that passes, in percent. Default: ${DEFAULT-VALUE}.")
  double latencyTolerance;

  @Option(names = "--timing", defaultValue = "predicted", paramLabel = "recorded|predicted",
      description = "Where loads, services and cleanup ticks take their times from: the recording (recorded: an exact "
          + "replay) or the profile and the model table (predicted). Default: ${DEFAULT-VALUE}.")
  String timing;

  @Override
  public Integer call() {
    if (!(rssTolerance >= 0) || !(waitTolerance >= 0) || !(latencyTolerance >= 0)) {
      throw new io.mlxcap.InvalidInputException("--tolerance, --wait-tolerance and --latency-tolerance must be percentages >= 0");
    }
    Validation.Timing t = switch (timing) {
      case "recorded" -> Validation.Timing.RECORDED;
      case "predicted" -> Validation.Timing.PREDICTED;
      default -> throw new io.mlxcap.InvalidInputException("--timing must be recorded or predicted, was '" + timing + "'");
    };
    Profile p = profile == null ? null : Profile.read(profile);
    Validation.Result result = Validation.run(trace, p, new Validation.Tolerances(rssTolerance, waitTolerance, latencyTolerance), t);
    PrintWriter out = spec.commandLine().getOut();
    out.println("validate      " + trace + (profile == null ? " (no profile: the simulator's default host)" : " with " + profile));
    Validation.describe(result, rssTolerance, waitTolerance).forEach(out::println);
    return result.passed() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }
}
