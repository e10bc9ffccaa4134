package io.mlxcap.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.InvalidInputException;
import io.mlxcap.model.Safetensors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Sizes a model from its files, reading headers only: a folder of {@code config.json} and
 * {@code *.safetensors} (sharded or not; MLX quantized or not), or a GGUF file (Ollama's blobs are
 * GGUF files without an extension, recognised by their first four bytes).
 *
 * @param kvValueBytes bytes per KV value: 2 for fp16 and bf16, 4 for fp32, 34/32 for q8_0, 18/32 for q4_0
 * @param contextOverride the context to assume instead of the model's own; 0 for its own
 */
public record ModelInspector(double kvValueBytes, long contextOverride) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** KV value sizes by the name {@code --kv-dtype} takes. */
  public static final Map<String, Double> KV_DTYPES =
      Map.of("f16", 2.0, "bf16", 2.0, "f32", 4.0, "q8_0", 34.0 / 32, "q4_0", 18.0 / 32);

  /**
   * Inspects {@code path}.
   *
   * @throws InvalidInputException one sentence naming the file and what is wrong
   */
  public Inspection inspect(Path path) {
    if (Files.isDirectory(path)) {
      return folder(path);
    }
    if (!Files.exists(path)) {
      throw new InvalidInputException(path + " does not exist");
    }
    if (isGguf(path)) {
      return gguf(path);
    }
    if (path.getFileName().toString().endsWith(".safetensors")) {
      return safetensors(path.toAbsolutePath().getParent(), List.of(path), path);
    }
    throw new InvalidInputException(path + " is neither a model folder (config.json and *.safetensors) nor a GGUF file");
  }

  private static boolean isGguf(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private Inspection folder(Path dir) {
    List<Path> shards = shards(dir);
    if (shards.isEmpty()) {
      try (Stream<Path> files = Files.list(dir)) {
        List<Path> ggufs = files.filter(f -> f.getFileName().toString().endsWith(".gguf")).sorted().toList();
        if (ggufs.size() == 1) {
          return gguf(ggufs.get(0));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
      }
      throw new InvalidInputException(dir + " has no weights: no *.safetensors and no single .gguf file in it");
    }
    return safetensors(dir, shards, dir);
  }

  /** The shards the index names, or every *.safetensors of the folder. */
  private static List<Path> shards(Path dir) {
    Path index = dir.resolve("model.safetensors.index.json");
    if (Files.exists(index)) {
      JsonNode map = readJson(index).path("weight_map");
      TreeSet<String> files = new TreeSet<>();
      map.fields().forEachRemaining(e -> files.add(e.getValue().asText()));
      if (files.isEmpty()) {
        throw new InvalidInputException(index + " has no weight_map naming the shards");
      }
      return files.stream().map(dir::resolve).toList();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private Inspection safetensors(Path dir, List<Path> files, Path source) {
    Path configFile = dir.resolve("config.json");
    JsonNode config = Files.exists(configFile) ? readJson(configFile) : JSON.createObjectNode();
    JsonNode quantization = config.has("quantization") ? config.get("quantization") : config.path("quantization_config");
    int bits = quantization.path("bits").asInt(0);
    int group = quantization.path("group_size").asInt(0);
    Map<String, Safetensors.Tensor> tensors = new HashMap<>();
    long bytesRead = configFile.toFile().length();
    for (Path file : files) {
      Safetensors header = Safetensors.read(file);
      bytesRead += header.headerBytesRead();
      header.tensors().forEach(t -> tensors.put(t.name(), t));
    }
    long bytes = 0;
    long parameters = 0;
    Map<String, Long> bytesByDtype = new TreeMap<>();
    boolean packed = false;
    for (Safetensors.Tensor t : tensors.values()) {
      bytes += t.bytes();
      String stem = t.name().replaceFirst("\\.(weight|scales|biases)$", "");
      boolean quantizedWeight = bits > 0 && t.dtype().equals("U32") && t.name().endsWith(".weight")
          && tensors.containsKey(stem + ".scales");
      boolean quantizationData = bits > 0 && (t.name().endsWith(".scales") || t.name().endsWith(".biases"))
          && tensors.containsKey(stem + ".weight") && tensors.get(stem + ".weight").dtype().equals("U32");
      if (quantizedWeight) {
        packed = true;
        parameters += t.elements() * (32 / bits);
      } else if (!quantizationData) {
        parameters += t.elements();
        bytesByDtype.merge(t.dtype(), t.bytes(), Long::sum);
      }
    }
    String main = bytesByDtype.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("");
    String dtype = packed ? bits + "-bit (group " + group + ")" + (main.isEmpty() ? "" : ", rest " + main) : main;
    boolean synthetic = "mlxcap-synth".equals(config.path("model_type").asText());
    Optional<Architecture> arch = synthetic ? Optional.of(new Architecture(0, 0, 0,
        contextOverride > 0 ? contextOverride : 0, 0, 0)) : Architecture.fromConfig(config, contextOverride);
    String name = config.path("name").asText("");
    if (name.isEmpty()) {
      name = dir.getFileName() == null ? "model" : dir.getFileName().toString();
    }
    List<String> aliases = new ArrayList<>();
    config.path("aliases").forEach(a -> aliases.add(a.asText()));
    return build(name, aliases, source, files.size() > 1 ? "safetensors, " + files.size() + " shards" : "safetensors",
        parameters, dtype, bytes, arch, bytesRead);
  }

  private Inspection gguf(Path file) {
    Gguf g = Gguf.read(file);
    Map<String, Long> byType = new TreeMap<>();
    long parameters = 0;
    for (Gguf.Tensor t : g.tensors()) {
      parameters += t.elements();
      byType.merge(t.type().name(), t.bytes(), Long::sum);
    }
    long total = g.weightBytes();
    String dtype = byType.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(2)
        .map(e -> e.getKey() + String.format(Locale.ROOT, " %.0f %%", 100.0 * e.getValue() / Math.max(1, total)))
        .reduce((a, b) -> a + ", " + b).orElse("");
    Object generalName = g.metadata().get("general.name");
    String name = generalName instanceof String s && !s.isBlank() ? s : file.getFileName().toString().replaceFirst("\\.gguf$", "");
    return build(name, List.of(), file, "gguf v" + g.version(), parameters, dtype, total,
        Architecture.fromGguf(g.architecture(), g.metadata(), contextOverride), g.bytesRead());
  }

  private Inspection build(String name, List<String> aliases, Path source, String format, long parameters, String dtype, long bytes,
      Optional<Architecture> arch, long bytesRead) {
    Optional<Long> perToken = arch.map(a -> a.kvBytesPerToken(kvValueBytes));
    long context = arch.map(Architecture::context).orElse(contextOverride);
    Optional<Long> atContext = arch.filter(a -> context > 0).map(a -> a.kvBytesAt(context, kvValueBytes));
    return new Inspection(tableName(name), List.copyOf(aliases), source.toString(), format, parameters, dtype, bytes, perToken, context,
        atContext, bytesRead);
  }

  /** A name the model table takes: no spaces or commas. */
  static String tableName(String name) {
    String cleaned = name.strip().replaceAll("[\\s,]+", "-");
    return cleaned.isEmpty() ? "model" : cleaned;
  }

  private static JsonNode readJson(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(file + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  /** All inspections as a model table (the README's format): exact sizes, KV, context and source per model. */
  public static String table(List<Inspection> models, Map<String, List<String>> aliases) {
    com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
    root.put("format", "mlxcap-models");
    root.put("version", 1);
    com.fasterxml.jackson.databind.node.ArrayNode array = root.putArray("models");
    for (Inspection m : models) {
      com.fasterxml.jackson.databind.node.ObjectNode node = array.addObject();
      node.put("name", m.name());
      List<String> a = new ArrayList<>(m.aliases());
      a.addAll(aliases.getOrDefault(m.name(), List.of()));
      if (!a.isEmpty()) {
        a.forEach(node.putArray("aliases")::add);
      }
      node.put("size", m.weightBytes());
      m.kvBytesPerToken().ifPresent(kv -> node.put("kv_bytes_per_token", kv));
      if (m.contextTokens() > 0) {
        node.put("context_tokens", m.contextTokens());
      }
      node.put("source", m.source() + " (" + m.format() + ", " + m.dtype() + "; mlxcap models inspect)");
    }
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Makes names unique in order: a repeated name gets -2, -3, … */
  public static List<Inspection> distinctNames(List<Inspection> models) {
    Map<String, Integer> seen = new HashMap<>();
    List<Inspection> out = new ArrayList<>();
    for (Inspection m : models) {
      int n = seen.merge(m.name(), 1, Integer::sum);
      out.add(n == 1 ? m : new Inspection(m.name() + "-" + n, m.aliases(), m.source(), m.format(), m.parameters(), m.dtype(),
          m.weightBytes(), m.kvBytesPerToken(), m.contextTokens(), m.kvAtContext(), m.bytesRead()));
    }
    return out;
  }
}
