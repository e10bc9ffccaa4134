package io.mlxcap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.Safetensors;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mlxcap models inspect} as a user meets it: files in, a model table out, the table used by simulate. */
final class ModelsCommandTest {
  @TempDir Path dir;

  private Path model(String name, String config, long elements) throws Exception {
    Path folder = Files.createDirectories(dir.resolve(name));
    Files.writeString(folder.resolve("config.json"), config);
    try (OutputStream out = Files.newOutputStream(folder.resolve("model.safetensors"))) {
      out.write(Safetensors.header(List.of(new Safetensors.Layout("w", "BF16", elements)), Map.of()));
      out.write(new byte[(int) (elements * 2)]);
    }
    return folder;
  }

  @Test
  void inspect_writesATable_thatSimulateUses() throws Exception {
    Path small = model("small-chat", "{\"num_hidden_layers\":4,\"num_attention_heads\":8,\"num_key_value_heads\":2,"
        + "\"hidden_size\":512,\"max_position_embeddings\":8192}", 3_000_000);
    Path large = model("large-code", "{\"num_hidden_layers\":8,\"num_attention_heads\":8,\"hidden_size\":1024}", 9_000_000);
    Path table = dir.resolve("mine.json");
    CliTest.Result r = CliTest.run("models", "inspect", small.toString(), large.toString(), "--alias", "small-chat=fast",
        "-o", table.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("small-chat") && l.contains("6.0 MB") && l.contains("8,192")), r.out());
    ModelTable t = ModelTable.load(table);
    ModelSpec s = t.resolve("fast");
    assertEquals("small-chat", s.name());
    assertEquals(6_000_000, s.size().expectedBytes());
    assertEquals(2L * 4 * 2 * 64 * 2, s.performance().kvBytesPerToken());
    assertEquals(8192, s.details().contextTokens());
    assertTrue(s.details().source().startsWith(small.toString()), s.details().source());
    assertEquals(0, t.resolve("large-code").details().contextTokens(), "no max_position_embeddings: unknown");

    Path trace = Files.writeString(dir.resolve("t.jsonl"), """
        {"type":"request","t_ms":0,"model":"fast","prompt_tokens":100,"output_tokens":10,"service_ms":500}
        {"type":"request","t_ms":1000,"model":"large-code","prompt_tokens":100,"output_tokens":10,"service_ms":500}
        """);
    CliTest.Result sim = CliTest.run("simulate", "--trace", trace.toString(), "--models", table.toString(),
        "--set", "MLX_MAX_CACHED_MODELS=1", "--set", "MLX_PRELOAD_MODELS=", "-o", dir.resolve("out").toString());
    assertEquals(0, sim.code(), sim.err());
    assertTrue(sim.out().contains("loads          2 (request 2); evictions 1 (max_models 1)"), sim.out());
  }

  @Test
  void badInput_exit2_oneSentence() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    for (String[] args : new String[][] {
        {"models", "inspect", empty.toString()},
        {"models", "inspect", dir.resolve("nothing-here").toString()},
        {"models", "inspect", empty.toString(), "--kv-dtype", "fp8"},
    }) {
      CliTest.Result r = CliTest.run(args);
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().startsWith("mlxcap: "), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
    }
  }

  @Test
  void overheadBytes_addToWhatTheSimulatorHolds() throws Exception {
    Path table = Files.writeString(dir.resolve("t.json"),
        "{\"models\":[{\"name\":\"m\",\"size\":\"10GB\",\"overhead_bytes\":\"2GB\",\"kv_bytes_per_token\":0}]}");
    Path trace = Files.writeString(dir.resolve("t.jsonl"),
        "{\"type\":\"request\",\"t_ms\":0,\"model\":\"m\",\"service_ms\":500}\n");
    CliTest.Result sim = CliTest.run("simulate", "--trace", trace.toString(), "--models", table.toString(),
        "--set", "MLX_PRELOAD_MODELS=", "--runtime-base", "1GB", "-o", dir.resolve("o").toString());
    assertEquals(0, sim.code(), sim.err());
    assertTrue(sim.out().contains("peak RSS       13.0 GB expected"), "runtime 1 + weights 10 + overhead 2: " + sim.out());
  }
}
