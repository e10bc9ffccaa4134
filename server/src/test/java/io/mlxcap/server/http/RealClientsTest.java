package io.mlxcap.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mlxcap.server.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The official openai and ollama npm clients, plain and streaming, against a real server
 * (clients/smoke.mjs). Needs clients/node_modules: `.ci/run` installs it with `npm ci` and sets
 * MLXCAP_REQUIRE_TOOLS, under which a missing install fails this test; elsewhere (a fresh clone,
 * GitHub Actions' plain {@code CI=true mvn -B verify}) it is skipped with one printed line.
 */
final class RealClientsTest {
  private static final Path CLIENTS = Path.of("").toAbsolutePath().getParent().resolve("clients");

  @Test
  void openaiAndOllamaNpmPackages_allChecksPass() throws IOException, InterruptedException {
    boolean installed = Files.isDirectory(CLIENTS.resolve("node_modules/openai"))
        && Files.isDirectory(CLIENTS.resolve("node_modules/ollama"));
    if (System.getenv("MLXCAP_REQUIRE_TOOLS") != null && !installed) {
      throw new AssertionError("clients/node_modules is missing: run npm ci in clients/ (.ci/run does)");
    }
    if (!installed) {
      System.out.println("skipped: the real openai and ollama clients (run npm ci in clients/ to include them)");
    }
    assumeTrue(installed, "npm ci in clients/ to run the real clients");
    try (TestServer s = TestServer.start(null, "MLX_MAX_CACHED_MODELS", "2")) {
      smoke(s, null);
    }
    try (TestServer s = new TestServer(io.mlxcap.server.TestModels.dir(), null, "smoke-key", "MLX_MAX_CACHED_MODELS", "2")) {
      smoke(s, "smoke-key");
    }
  }

  private static void smoke(TestServer s, String apiKey) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder("node", "smoke.mjs").directory(CLIENTS.toFile()).redirectErrorStream(true);
    builder.environment().put("MLXCAP_URL", "http://127.0.0.1:" + s.port);
    if (apiKey != null) {
      builder.environment().put("MLX_API_KEY", apiKey);
    }
    Process node = builder.start();
    assertTrue(node.waitFor(120, TimeUnit.SECONDS), "node finished");
    String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.print(output.replaceAll("(?m)^(\\d+) passed, (\\d+) failed$", "clients: $1 ok, $2 not ok"));
    assertEquals(0, node.exitValue(), output);
    assertTrue(output.contains("12 passed, 0 failed"), output);
  }
}
