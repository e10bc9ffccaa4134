package io.mlxcap.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Bad serve options get one sentence and exit code 2, before anything starts. */
final class ServeOptionsTest {

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ServerMain.run(new PrintWriter(out), new PrintWriter(err), args);
    return new String[] {Integer.toString(code), err.toString().strip()};
  }

  @Test
  void badMemorySampleAndBodyLimit_oneSentence() {
    String dir = TestModels.dir().toString();
    String[] sample = run("serve", "--models-dir", dir, "--memory-sample", "often");
    assertEquals("2", sample[0]);
    assertEquals("mlxcap: --memory-sample 'often' is not a duration; write a number and a unit: 500ms, 90s, 10m, 24h or 7d", sample[1]);
    String[] body = run("serve", "--models-dir", dir, "--max-body", "lots");
    assertEquals("2", body[0]);
    assertTrue(body[1].startsWith("mlxcap: --max-body 'lots': expected a size such as 96GiB"), body[1]);
    String[] noModels = run("serve", "--models-dir", "/nonexistent-dir");
    assertEquals("mlxcap: /nonexistent-dir has no models.json; build models with: mlxcap synth-models --out /nonexistent-dir",
        noModels[1]);
  }

  // Issue 8: one exit-code rule for the whole command line; serve said 2 for an I/O failure, the rest 74.
  @Test
  void ioFailure_exits74_asEveryCommandDoes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("file"), "x");
    String[] r = run("serve", "--models-dir", TestModels.dir().toString(), "--trace", file.resolve("t.jsonl").toString());
    assertEquals("74", r[0], r[1]);
    assertTrue(r[1].startsWith("mlxcap: cannot create "), r[1]);
  }

  // Found running the concurrency matrix: a port already taken ended serve with Javalin's stack trace
  // and "internal error". It is one sentence that names the address, and the I/O exit code.
  @Test
  void portInUse_oneSentenceNamingTheAddress() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      java.nio.file.Path trace = java.nio.file.Files.createTempFile("port-in-use", ".jsonl");
      String[] r = run("serve", "--models-dir", TestModels.dir().toString(), "--port", Integer.toString(port),
          "--trace", trace.toString());
      assertEquals("74", r[0], r[1]);
      assertEquals("mlxcap: cannot listen on 127.0.0.1:" + port + ": the port is in use or not this machine's; stop what listens there or choose"
          + " another with --port (0 picks a free one)", r[1].lines().reduce((a, b) -> b).orElse(""), r[1]);
      assertTrue(r[1].lines().noneMatch(line -> line.contains("Exception") || line.startsWith("\tat ")), r[1]);
    }
  }
}
