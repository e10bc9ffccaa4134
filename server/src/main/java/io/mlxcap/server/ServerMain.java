package io.mlxcap.server;

import io.mlxcap.ExitCode;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The server's commands: {@code mlxcap serve} and {@code mlxcap synth-models}; the launcher sends them here. */
@Command(name = "mlxcap", mixinStandardHelpOptions = true, version = "mlxcap 0.1.0",
    description = "The mlxcap reference server and its model builder.",
    subcommands = {ServeCommand.class, SynthModelsCommand.class, BenchServerCommand.class,
        CommandLine.HelpCommand.class})
public final class ServerMain implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    int code = run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    if (code != 0 || args.length == 0 || !args[0].equals("serve")) {
      System.exit(code);
    }
  }

  static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new ServerMain());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> ExitCode.report(e, err));
    return cli.execute(args);
  }
}
