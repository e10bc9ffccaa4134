package io.mlxcap.cli;

import io.mlxcap.calibrate.Calibration;
import io.mlxcap.calibrate.Profile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap calibrate}: a host profile fitted from what a server recorded. */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
    description = "Fit a host profile from a trace recorded by mlxcap serve: load time = overhead + bytes / bandwidth "
        + "+ a delay per byte evicted to make room for the load (Theil-Sen over the load lines after the process's first 2, "
        + "its warm-up; R² and residuals printed), and the spread around it: the warm-up loads' extra time, each model's "
        + "median offset and every later load's time over its usual one, pooled (a model's own once it has 30 later loads); "
        + "the runtime's base RSS and what each load "
        + "leaves behind (RSS minus the resident models against the loads so far, over the memory samples); what a "
        + "load holds while it runs (samples taken during loads); each model's resident bytes (load lines) and "
        + "prefill and decode rates (its warm requests, each over its share of the slowdown; scaled so their time adds up) and "
        + "working memory per token; how generations in service at once slow each other (each other one adds a share of a "
        + "solo time: processor sharing; fitted with the rates, the pair that leaves the least squared relative error) and what a model's first service after a load takes beyond the usual. Every figure in the profile says how many observations it "
        + "came from. Give --trace several times to fit one profile from several recordings (each its own process: "
        + "its own warm-up; the tail of the load spread then rests on more loads). Use it with simulate, sweep, report "
        + "and validate: --profile FILE.")
final class CalibrateCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--trace", required = true, paramLabel = "FILE",
      description = "A trace recorded by mlxcap serve; give it again for more recordings, fitted together.")
  List<Path> traces;

  @Option(names = {"-o", "--out"}, defaultValue = "host-profile.json", paramLabel = "FILE",
      description = "Where to write the profile. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Override
  public void run() {
    Calibration.Result result = Calibration.fit(traces);
    PrintWriter o = spec.commandLine().getOut();
    Profile p = result.profile();
    o.println("calibrate     " + p.source());
    result.quality().forEach(o::println);
    o.println("host          " + p.host().describe());
    try {
      p.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
    o.println("wrote         " + out);
  }
}
