package io.mlxcap.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.InvalidInputException;
import io.mlxcap.model.Safetensors.Layout;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exact byte counts and KV figures, checked against hand computation on files in the published formats. */
final class ModelInspectorTest {
  private static final ModelInspector FP16 = new ModelInspector(2, 0);

  @TempDir Path dir;

  private Path folder(String name, String config) throws Exception {
    Path f = Files.createDirectories(dir.resolve(name));
    Files.writeString(f.resolve("config.json"), config);
    return f;
  }

  @Test
  void safetensors_exactBytesParametersAndGqaKv() throws Exception {
    Path model = folder("tiny-llama", """
        {"model_type":"llama","num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
         "hidden_size":64,"max_position_embeddings":2048}""");
    ModelFiles.safetensors(model.resolve("model.safetensors"), new Layout("embed.weight", "F32", 100, 64),
        new Layout("layers.0.q.weight", "BF16", 64, 64), new Layout("norm.weight", "F16", 64));
    Inspection m = FP16.inspect(model);
    assertEquals("tiny-llama", m.name());
    assertEquals(100 * 64 * 4 + 64 * 64 * 2 + 64 * 2, m.weightBytes());
    assertEquals(100 * 64 + 64 * 64 + 64, m.parameters());
    assertEquals("F32", m.dtype(), "the dtype holding most bytes");
    // 2 (K and V) x 2 layers x 2 KV heads x head size 64/4 = 16 x 2 bytes
    assertEquals(Optional.of(256L), m.kvBytesPerToken());
    assertEquals(2048, m.contextTokens());
    assertEquals(Optional.of(m.weightBytes() + 256L * 2048), m.residentAtFullContext());
    assertEquals(Optional.of(128L), new ModelInspector(1, 0).inspect(model).kvBytesPerToken(), "--kv-dtype halves it");
    assertEquals(512, new ModelInspector(2, 512).inspect(model).contextTokens(), "--context replaces the model's");
  }

  /** The reference server's own layout (synth-models): config.json of model_type mlxcap-synth and model.safetensors. */
  @Test
  void synthLayout_namesAliasesAndNoKv() throws Exception {
    Path model = folder("phi3.5_3.8b", """
        {"architectures":["MlxcapSynthDecoder"],"model_type":"mlxcap-synth","name":"phi3.5:3.8b","aliases":["fast"],
         "vocab_size":256,"hidden_size":8,"num_hidden_layers":1,"torch_dtype":"float32"}""");
    ModelFiles.safetensors(model.resolve("model.safetensors"), new Layout("embed.weight", "F32", 256, 8),
        new Layout("layers.0.weight", "F32", 8, 8), new Layout("layers.0.bias", "F32", 8),
        new Layout("lm_head.weight", "F32", 8, 256), new Layout("lm_head.bias", "F32", 256));
    Inspection m = FP16.inspect(model);
    assertEquals("phi3.5:3.8b", m.name());
    assertEquals(List.of("fast"), m.aliases());
    assertEquals(4L * (256 * 8 + 8 * 8 + 8 + 8 * 256 + 256), m.weightBytes());
    assertEquals(Optional.of(0L), m.kvBytesPerToken(), "no attention, no KV cache");
  }

  @Test
  void sharded_withAnIndex_readsEveryShardItNames() throws Exception {
    Path model = folder("sharded", "{\"num_hidden_layers\":1,\"num_attention_heads\":2,\"hidden_size\":8}");
    ModelFiles.safetensors(model.resolve("model-00001-of-00002.safetensors"), new Layout("a", "F16", 1000));
    ModelFiles.safetensors(model.resolve("model-00002-of-00002.safetensors"), new Layout("b", "F16", 500));
    ModelFiles.safetensors(model.resolve("stray.safetensors"), new Layout("c", "F16", 7));
    Files.writeString(model.resolve("model.safetensors.index.json"),
        "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
    Inspection m = FP16.inspect(model);
    assertEquals(3000, m.weightBytes(), "the index's shards, not the stray file");
    assertEquals("safetensors, 2 shards", m.format());
    assertEquals(Optional.of(2L * 2 * 4 * 2), m.kvBytesPerToken(), "no num_key_value_heads: every head keeps K and V");
  }

  @Test
  void mlxFourBit_packedWeightsScalesAndBiases_countedAsTheyLie() throws Exception {
    Path model = folder("mlx-4bit", """
        {"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"hidden_size":256,
         "quantization":{"group_size":64,"bits":4}}""");
    // A 128 x 256 linear layer in 4 bits: 8 values per uint32, a scale and a bias per 64 values.
    ModelFiles.safetensors(model.resolve("model.safetensors"), new Layout("mlp.weight", "U32", 128, 32),
        new Layout("mlp.scales", "BF16", 128, 4), new Layout("mlp.biases", "BF16", 128, 4),
        new Layout("norm.weight", "BF16", 256));
    Inspection m = FP16.inspect(model);
    assertEquals(128 * 32 * 4 + 2 * 128 * 4 * 2 + 256 * 2, m.weightBytes());
    assertEquals(128 * 256 + 256, m.parameters(), "packed values count as parameters; scales and biases do not");
    assertEquals("4-bit (group 64), rest BF16", m.dtype());
  }

  @Test
  void gguf_v3_typesMetadataAndKv() throws Exception {
    Path file = new ModelFiles.Gguf(3).string("general.architecture", "llama").string("general.name", "Tiny Llama Test")
        .u32("llama.block_count", 4).u32("llama.attention.head_count", 8).u32("llama.attention.head_count_kv", 2)
        .u32("llama.embedding_length", 256).u32("llama.context_length", 4096).f32("llama.rope.freq_base", 10000f)
        .strings("tokenizer.ggml.tokens", 1000)
        .tensor("token_embd.weight", 2, 256 * 1000 / 32 * 18, 256, 1000)
        .tensor("output_norm.weight", 0, 256 * 4, 256)
        .tensor("blk.0.ffn_down.weight", 14, 256 * 256 / 256 * 210, 256, 256)
        .write(dir.resolve("tiny.gguf"), 0);
    Inspection m = FP16.inspect(file);
    assertEquals("Tiny-Llama-Test", m.name(), "general.name, spaces replaced");
    assertEquals("gguf v3", m.format());
    assertEquals(8000L * 18 + 1024 + 256L * 210, m.weightBytes(), "Q4_0 18 bytes per 32, F32 4 per value, Q6_K 210 per 256");
    assertEquals(256000 + 256 + 65536, m.parameters());
    assertTrue(m.dtype().startsWith("Q4_0 "), m.dtype());
    assertEquals(Optional.of(2L * 4 * 2 * (256 / 8) * 2), m.kvBytesPerToken());
    assertEquals(4096, m.contextTokens());
  }

  @Test
  void gguf_v2_andAnExtensionlessBlob_read() throws Exception {
    Path blob = new ModelFiles.Gguf(2).string("general.architecture", "qwen2").u32("qwen2.block_count", 2)
        .u32("qwen2.attention.head_count", 4).u32("qwen2.embedding_length", 64)
        .tensor("w", 1, 64 * 2, 64).write(dir.resolve("sha256-0123abcd"), 0);
    Inspection m = FP16.inspect(blob);
    assertEquals("sha256-0123abcd", m.name(), "no general.name: the file's name");
    assertEquals(128, m.weightBytes());
    assertEquals(Optional.of(2L * 2 * 4 * 16 * 2), m.kvBytesPerToken());
  }

  /** The KV rule against the published architectures of the seed's four models: the built-in table's figures. */
  @Test
  void seedModels_kvPerTokenAsPublished() throws Exception {
    String[][] cases = {
      {"phi-3.5-mini", "393216", "131072"},
      {"qwen2.5-coder-32b", "262144", "32768"},
      {"deepseek-r1-distill-llama-70b", "327680", "131072"},
      {"command-r-plus", "262144", "131072"},
    };
    for (String[] c : cases) {
      String config = new String(getClass().getResourceAsStream(c[0] + ".json").readAllBytes());
      Architecture a = Architecture.fromConfig(new ObjectMapper().readTree(config), 0).orElseThrow();
      assertEquals(Long.parseLong(c[1]), a.kvBytesPerToken(2), c[0]);
      assertEquals(Long.parseLong(c[2]), a.context(), c[0]);
      io.mlxcap.model.ModelSpec builtIn = io.mlxcap.model.ModelTable.defaults().models().stream()
          .filter(m -> m.performance().kvBytesPerToken() == Long.parseLong(c[1])).findFirst().orElseThrow();
      assertEquals(Long.parseLong(c[1]), builtIn.performance().kvBytesPerToken());
    }
  }

  @Test
  void slidingWindow_capsTheWindowedLayers() throws Exception {
    // Gemma 2 style: half the layers keep only the last 4,096 tokens.
    Architecture a = Architecture.fromConfig(new ObjectMapper().readTree("""
        {"model_type":"gemma2","num_hidden_layers":42,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":256,
         "hidden_size":3584,"max_position_embeddings":8192,"sliding_window":4096}"""), 0).orElseThrow();
    long perToken = 2L * 42 * 8 * 256 * 2;
    assertEquals(perToken, a.kvBytesPerToken(2));
    assertEquals(Math.round(perToken * (0.5 * 8192 + 0.5 * 4096)), a.kvBytesAt(8192, 2));
    assertEquals(perToken * 1000, a.kvBytesAt(1000, 2), "within the window every layer holds every token");
  }

  @Test
  void badFiles_oneSentenceNamingTheFile() throws Exception {
    Path tiny = Files.write(dir.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
    assertMessage(tiny, tiny + " is 3 bytes long, too short for a safetensors header");
    Path past = dir.resolve("past.safetensors");
    Files.write(past, new byte[] {(byte) 0xe8, 3, 0, 0, 0, 0, 0, 0, '{', '}'});
    assertMessage(past, past + " says its header is 1000 bytes, but the file holds 2 after the length");
    Path dtype = dir.resolve("dtype.safetensors");
    byte[] json = "{\"w\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}".getBytes();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + json.length + 1).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putLong(json.length).put(json).put((byte) 0);
    Files.write(dtype, b.array());
    assertMessage(dtype, dtype + " has tensor w of dtype 'F4', which safetensors does not define");
    Path cut = dir.resolve("cut.safetensors");
    ModelFiles.safetensors(cut, new Layout("w", "F32", 1000));
    byte[] whole = Files.readAllBytes(cut);
    Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 100));
    assertTrue(message(cut).contains("past the 3900 bytes of data the file holds (is it cut short?)"), message(cut));
    Path v1 = new ModelFiles.Gguf(1).write(dir.resolve("old.gguf"), 0);
    assertMessage(v1, v1 + " is GGUF version 1; mlxcap reads versions 2 and 3");
    Path cutGguf = new ModelFiles.Gguf(3).string("general.architecture", "llama").tensor("w", 0, 4096, 1024)
        .write(dir.resolve("cut.gguf"), 2000);
    assertTrue(message(cutGguf).contains("past the end of the file") && message(cutGguf).contains("(is it cut short?)"),
        message(cutGguf));
    Path unknownType = new ModelFiles.Gguf(3).tensor("w", 99, 32, 32).write(dir.resolve("t99.gguf"), 0);
    assertMessage(unknownType, unknownType + " has tensor w of GGML type 99, which mlxcap cannot size");
    Path empty = folder("empty", "{}");
    assertMessage(empty, empty + " has no weights: no *.safetensors and no single .gguf file in it");
    Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
    assertMessage(text, text + " is neither a model folder (config.json and *.safetensors) nor a GGUF file");
  }

  private static String message(Path p) {
    return assertThrows(InvalidInputException.class, () -> FP16.inspect(p)).getMessage();
  }

  private static void assertMessage(Path p, String expected) {
    assertEquals(expected, message(p));
  }

  /** Never more than the headers: a 2 GiB (sparse) weights file is sized from under 1 MB of reads. */
  @Test
  void twoGigabyteFile_readsOnlyItsHeader() throws Exception {
    Path model = folder("big", "{\"num_hidden_layers\":1,\"num_attention_heads\":1,\"hidden_size\":4}");
    Path file = model.resolve("model.safetensors");
    byte[] header = io.mlxcap.model.Safetensors.header(List.of(new Layout("w", "F32", 1L << 29)), java.util.Map.of());
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.write(header);
      raf.setLength(header.length + (2L << 30));
    }
    Inspection m = FP16.inspect(model);
    assertEquals(2L << 30, m.weightBytes());
    assertTrue(m.bytesRead() < 1 << 20, "read " + m.bytesRead() + " bytes");
    Path gguf = new ModelFiles.Gguf(3).string("general.architecture", "llama").write(dir.resolve("big.gguf"), 0);
    try (RandomAccessFile raf = new RandomAccessFile(gguf.toFile(), "rw")) {
      raf.setLength(2L << 30);
    }
    assertTrue(FP16.inspect(gguf).bytesRead() < 1 << 20);
  }
}
