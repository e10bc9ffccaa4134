package io.mlxcap.server.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.server.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class LoadedModelTest {

  private static long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS");
  }

  @Test
  void synth_sizesAreTheSeedsScaled_exactlyAsDescribed() {
    Path dir = TestModels.dir();
    SynthModelFile huge = SynthModelFile.read(dir.resolve("command-r-plus_104b"));
    assertEquals(1024, huge.hidden());
    long expected = Math.round(65e9 / 200);
    assertTrue(Math.abs(huge.parameterBytes() - expected) < 4 * 1024 * 1024, huge.parameterBytes() + " vs " + expected);
    io.mlxcap.model.Safetensors weights = io.mlxcap.model.Safetensors.read(dir.resolve("command-r-plus_104b/model.safetensors"));
    assertEquals(huge.parameterBytes(), weights.tensorBytes(), "the safetensors header accounts for every parameter byte");
    assertEquals(weights.dataStart() + huge.parameterBytes(), dir.resolve("command-r-plus_104b/model.safetensors").toFile().length());
    assertEquals(2 + 2 * huge.layers() + 1, weights.tensors().size());
    assertEquals(huge.parameterBytes(), TestModels.table().resolve("command-r-plus:104b").size().expectedBytes());
    assertEquals(512, SynthModelFile.read(dir.resolve("phi3.5_3.8b")).hidden());
  }

  @Test
  void synth_isDeterministic(@TempDir Path a, @TempDir Path b) throws IOException {
    io.mlxcap.model.ModelTable one = io.mlxcap.model.ModelTable.parse(
        "{\"models\":[{\"name\":\"m\",\"size\":\"2MB\"}]}", "t");
    SynthModels.write(one, 1, 5, a);
    SynthModels.write(one, 1, 5, b);
    assertEquals(-1, Files.mismatch(a.resolve("m/model.safetensors"), b.resolve("m/model.safetensors")));
    assertEquals(Files.readString(a.resolve("models.json")), Files.readString(b.resolve("models.json")));
  }

  @Test
  void generate_honoursMaxTokens_isRepeatable_andPrintable() throws IOException {
    try (LoadedModel model = LoadedModel.load(TestModels.dir().resolve("phi3.5_3.8b"))) {
      List<String> streamed = new ArrayList<>();
      LoadedModel.Generation g = model.generate("hello there", 12, 0, 1, streamed::add);
      assertEquals(12, g.outputTokens());
      assertEquals(11, g.promptTokens());
      assertEquals(12, g.text().length());
      assertEquals(String.join("", streamed), g.text());
      assertTrue(g.text().chars().allMatch(c -> c >= 32 && c < 127), g.text());
      assertEquals(g.text(), model.generate("hello there", 12, 0, 1, s -> true).text(), "greedy is repeatable");
      assertNotEquals(g.text(), model.generate("something else entirely", 12, 0, 1, s -> true).text(),
          "the prompt matters (with overwhelming likelihood)");
      assertEquals(model.generate("x", 8, 0.8, 42, s -> true).text(), model.generate("x", 8, 0.8, 42, s -> true).text(),
          "sampling is seeded");
    }
  }

  @Test
  void unload_givesMemoryBack_measuredRss() throws IOException {
    Path dir = TestModels.dir().resolve("deepseek-r1-distill-llama_70b");
    long size = SynthModelFile.read(dir).parameterBytes();
    // Warm the engine's own allocations first so they do not count against the model.
    try (LoadedModel warm = LoadedModel.load(TestModels.dir().resolve("phi3.5_3.8b"))) {
      warm.generate("warm", 2, 0, 1, s -> true);
    }
    long before = rssBytes();
    LoadedModel model = LoadedModel.load(dir);
    model.generate("a prompt", 4, 0, 1, s -> true);
    long loaded = rssBytes();
    model.close();
    long after = rssBytes();
    System.out.printf("rss before %d MB, loaded %d MB, after close %d MB; model %d MB%n",
        before >> 20, loaded >> 20, after >> 20, size >> 20);
    assertTrue(loaded - before > 0.9 * size, "loading adds the model: " + ((loaded - before) >> 20) + " MB");
    assertTrue(after - before < 0.1 * size + (30L << 20), "closing gives it back: " + ((after - before) >> 20) + " MB left");
  }

  @Test
  void corruptOrMissingWeights_failWithTheReason(@TempDir Path tmp) throws IOException {
    Path source = TestModels.dir().resolve("phi3.5_3.8b");
    Path broken = tmp.resolve("phi3.5_3.8b");
    Files.createDirectories(broken);
    Files.copy(source.resolve("config.json"), broken.resolve("config.json"));
    byte[] weights = Files.readAllBytes(source.resolve("model.safetensors"));
    Files.write(broken.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, weights.length / 2));
    IOException shortFile = assertThrows(IOException.class, () -> LoadedModel.load(broken));
    assertTrue(shortFile.getMessage().contains("past the") && shortFile.getMessage().contains("(is it cut short?)"),
        shortFile.getMessage());
    Files.delete(broken.resolve("model.safetensors"));
    assertThrows(IOException.class, () -> LoadedModel.load(broken));
  }
}
