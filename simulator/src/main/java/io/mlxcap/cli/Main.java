package io.mlxcap.cli;

import io.mlxcap.InvalidInputException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
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
    subcommands = {SimulateCommand.class, CurveCommand.class, ImportCommand.class, WorkloadCommand.class, TraceCommand.class, BenchCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  /** Exit code for a mistake in what the user gave (a bad option, file or value). */
  static final int BAD_INPUT = 2;
  /** Exit code for an I/O failure. */
  static final int IO_FAILURE = 74;
  /** Exit code for a bug. */
  static final int INTERNAL = 70;

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
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof InvalidInputException) {
        err.println("mlxcap: " + e.getMessage());
        return BAD_INPUT;
      }
      if (e instanceof UncheckedIOException) {
        err.println("mlxcap: " + e.getMessage());
        return IO_FAILURE;
      }
      err.println("mlxcap: internal error: " + e + (System.getenv("MLXCAP_DEBUG") == null
          ? " (set MLXCAP_DEBUG=1 to see where)" : ""));
      if (System.getenv("MLXCAP_DEBUG") != null) {
        e.printStackTrace(err);
      }
      return INTERNAL;
    });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }
}
