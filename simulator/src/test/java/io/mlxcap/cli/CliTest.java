package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line as a user meets it: help, exit codes, one-sentence errors, files written. */
final class CliTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void everyCommand_hasHelp() {
    List<String> paths = List.of("", "simulate", "curve", "import", "import csv", "import jsonl", "import azure-2023", "import mooncake",
        "workload", "workload synth", "workload seed-scenario", "trace", "trace stats", "bench", "bench read",
        "bench simulate");
    for (String path : paths) {
      String[] args = (path + " --help").strip().split(" ");
      Result r = run(args);
      assertEquals(0, r.code(), path);
      assertTrue(r.out().startsWith("Usage: mlxcap" + (path.isEmpty() ? "" : " " + path)), r.out());
    }
    CommandLine root = new CommandLine(new Main());
    int commands = countCommands(root);
    assertEquals(paths.size() + 1, commands, "every command (and help) is in the list above");
  }

  private static int countCommands(CommandLine cli) {
    int n = 1;
    for (CommandLine sub : cli.getSubcommands().values()) {
      n += countCommands(sub);
    }
    return n;
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "trace stats NOPE.jsonl|mlxcap: trace NOPE.jsonl does not exist",
    "workload synth -o OUT --rate -1|mlxcap: --rate must be a positive number of requests per second, was -1.0",
    "workload synth -o OUT --arrivals lumpy|mlxcap: --arrivals must be poisson, on-off or diurnal, was 'lumpy'",
    "workload synth -o OUT --mix gpt=1|mlxcap: unknown model 'gpt'; known models: phi3.5:3.8b (fast),",
    "import csv IN -o OUT --time t --time-format unix|mlxcap: --time-format: unknown time format 'unix'",
    "import azure-2023 -o OUT|mlxcap: give --code FILE, --conv FILE or both",
    "import mooncake IN -o OUT --size x=lots|mlxcap: --size x=lots: expected a size such as 96GiB",
  })
  void badInput_oneSentenceExitCode2_noStackTrace(String line) throws Exception {
    String[] parts = line.split("\\|");
    Path in = Files.writeString(dir.resolve("in.csv"), "t,p\n1,2\n");
    String[] args = parts[0].replace("OUT", dir.resolve("out.jsonl").toString()).replace("IN", in.toString()).split(" ");
    Result r = run(args);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith(parts[1]), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
  }

  @Test
  void unknownOption_usageAndExitCode2() {
    Result r = run("trace", "stats", "--frobnicate", "x");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("Unknown option: '--frobnicate'"), r.err());
  }

  @Test
  void workloadThenStats_endToEnd() throws Exception {
    Path trace = dir.resolve("w.jsonl");
    Result w = run("workload", "synth", "-o", trace.toString(), "--arrivals", "on-off", "--rate", "2",
        "--duration", "2h", "--mix", "fast=3,default=1", "--seed", "9");
    assertEquals(0, w.code(), w.err());
    assertTrue(w.out().startsWith("wrote "), w.out());
    Result s = run("trace", "stats", trace.toString());
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("source         mlxcap workload synth --arrivals on-off --rate 2.0 --duration PT2H"
        + " --mix fast=3,default=1 --prompt-tokens 600:1 --output-tokens 250:0.8 --seed 9"), s.out());
    assertTrue(s.out().contains("fast   "), s.out());
    Result json = run("trace", "stats", "--json", trace.toString());
    assertTrue(json.out().contains("\"inter_arrival_cv\""), json.out());
  }
}
