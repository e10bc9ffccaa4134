package io.mlxcap.cli;

import java.io.PrintWriter;

/** Lets tests in other packages run the command line as {@code main} does. */
public final class TestAccess {
  private TestAccess() {}

  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return Main.run(out, err, args);
  }
}
