package io.mlxcap.cli;

import io.mlxcap.ExitCode;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mlxcap} command: hands each subcommand to its runner and turns errors into one sentence. */
@Command(
    name = "mlxcap",
    mixinStandardHelpOptions = true,
    version = "mlxcap 0.1.0",
    description = "Capacity planning for servers that keep several LLMs in one process: peak RAM and cold-start waits "
        + "under MLX_* settings, from traces. The reference server's commands (serve, synth-models, bench-server) "
        + "have their own help: ./mlxcap serve --help.",
    subcommands = {ReportCommand.class, SweepCommand.class, SimulateCommand.class, DriveCommand.class, CalibrateCommand.class,
        ValidateCommand.class, CurveCommand.class, ImportCommand.class, ModelsCommand.class, WorkloadCommand.class, TraceCommand.class, BenchCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs the command line {@code args}, writing to {@code out} and {@code err}; returns the exit code. */
  static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> ExitCode.report(e, err));
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }
}
