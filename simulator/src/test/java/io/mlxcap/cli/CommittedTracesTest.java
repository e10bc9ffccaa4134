package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The traces committed under traces/ are exactly what today's importers and generators make of
 * their sources, so the files and the code cannot drift apart.
 */
final class CommittedTracesTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  @TempDir Path dir;

  /** The shared/traces-real folder beside the repository, as laid for sessions and CI. */
  private static Optional<Path> realTraces() {
    for (Path p = REPO; p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared/traces-real");
      if (Files.isDirectory(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static Path requireRealTraces() {
    Optional<Path> found = realTraces();
    // In CI the folder must be there; elsewhere (a clone without shared/) the comparison is skipped.
    if (System.getenv("CI") != null && found.isEmpty()) {
      throw new AssertionError("shared/traces-real not found above " + REPO);
    }
    assumeTrue(found.isPresent(), "shared/traces-real is not beside this clone");
    return found.get();
  }

  private void assertSameBytes(String committed, Path fresh) throws Exception {
    assertArrayEquals(Files.readAllBytes(REPO.resolve(committed)), Files.readAllBytes(fresh), committed);
  }

  @Test
  void azure2023_matchesAFreshImport() throws Exception {
    Path real = requireRealTraces();
    Path out = dir.resolve("azure.jsonl");
    assertEquals(0, CliTest.run("import", "azure-2023", "--code", real.resolve("AzureLLMInferenceTrace_code.csv").toString(),
        "--conv", real.resolve("AzureLLMInferenceTrace_conv.csv").toString(), "-o", out.toString()).code());
    assertSameBytes("traces/public/azure-2023-code-conv.jsonl", out);
  }

  @Test
  void mooncake_matchesAFreshImport() throws Exception {
    Path real = requireRealTraces();
    Path out = dir.resolve("mooncake.jsonl");
    assertEquals(0, CliTest.run("import", "mooncake", real.resolve("mooncake_conversation_trace.jsonl").toString(),
        "-o", out.toString()).code());
    assertSameBytes("traces/public/mooncake-conversation.jsonl", out);
  }

  @Test
  void seedScenario_regeneratesByteForByte() throws Exception {
    Path out = dir.resolve("seed.jsonl");
    assertEquals(0, CliTest.run("workload", "seed-scenario", "-o", out.toString()).code());
    assertSameBytes("traces/samples/seed-scenario.jsonl", out);
  }
}
