package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The traces committed under traces/ are exactly what today's importers and generators make of
 * their sources, which are committed beside them (traces/public/sources), so the files and the code
 * cannot drift apart and the check runs on any clone.
 */
final class CommittedTracesTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static final Path SOURCES = REPO.resolve(ImportCommand.SOURCES);

  @TempDir Path dir;

  private void assertSameBytes(String committed, Path fresh) throws Exception {
    assertArrayEquals(Files.readAllBytes(REPO.resolve(committed)), Files.readAllBytes(fresh), committed);
  }

  @Test
  void azure2023_matchesAFreshImportOfTheCommittedSources() throws Exception {
    Path out = dir.resolve("azure.jsonl");
    assertEquals(0, CliTest.run("import", "azure-2023", "--code", SOURCES.resolve("AzureLLMInferenceTrace_code.csv.gz").toString(),
        "--conv", SOURCES.resolve("AzureLLMInferenceTrace_conv.csv.gz").toString(), "-o", out.toString()).code());
    assertSameBytes("traces/public/azure-2023-code-conv.jsonl", out);
  }

  @Test
  void mooncake_matchesAFreshImportOfTheCommittedSource() throws Exception {
    Path out = dir.resolve("mooncake.jsonl");
    assertEquals(0, CliTest.run("import", "mooncake", SOURCES.resolve("mooncake_conversation_trace.jsonl.gz").toString(),
        "-o", out.toString()).code());
    assertSameBytes("traces/public/mooncake-conversation.jsonl", out);
  }

  @Test
  void presets_withoutFiles_convertTheCommittedSources() throws Exception {
    Path azure = dir.resolve("azure.jsonl");
    CliTest.Result a = CliTest.run("import", "azure-2023", "-o", azure.toString());
    assertEquals(0, a.code(), a.err());
    assertSameBytes("traces/public/azure-2023-code-conv.jsonl", azure);
    Path mooncake = dir.resolve("mooncake.jsonl");
    assertEquals(0, CliTest.run("import", "mooncake", "-o", mooncake.toString()).code());
    assertSameBytes("traces/public/mooncake-conversation.jsonl", mooncake);
  }

  @Test
  void sources_carryTheirAttribution() throws Exception {
    String readme = Files.readString(SOURCES.resolve("README.md"));
    for (String file : new String[] {"AzureLLMInferenceTrace_code.csv.gz", "AzureLLMInferenceTrace_conv.csv.gz",
        "mooncake_conversation_trace.jsonl.gz"}) {
      assertTrue(Files.size(SOURCES.resolve(file)) > 10_000, file);
      assertTrue(readme.contains(file), "README names " + file);
    }
    assertTrue(readme.contains("CC-BY 4.0") && readme.contains("Apache-2.0"), "licences stated");
  }

  @Test
  void seedScenario_regeneratesByteForByte() throws Exception {
    Path out = dir.resolve("seed.jsonl");
    assertEquals(0, CliTest.run("workload", "seed-scenario", "-o", out.toString()).code());
    assertSameBytes("traces/samples/seed-scenario.jsonl", out);
  }
}
