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
        + "its error. A cold start is a request whose model was not resident when it got its worker, as the simulator counts it. Exits 1 when the decisions "
        + "differ or peak RSS or a cold-start wait is outside its tolerance.")
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

  @Override
  public Integer call() {
    if (!(rssTolerance >= 0) || !(waitTolerance >= 0)) {
      throw new io.mlxcap.InvalidInputException("--tolerance and --wait-tolerance must be percentages >= 0");
    }
    Profile p = profile == null ? null : Profile.read(profile);
    Validation.Result result = Validation.run(trace, p, rssTolerance, waitTolerance);
    PrintWriter out = spec.commandLine().getOut();
    out.println("validate      " + trace + (profile == null ? " (no profile: the simulator's default host)" : " with " + profile));
    Validation.describe(result, rssTolerance, waitTolerance).forEach(out::println);
    return result.passed() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }
}
