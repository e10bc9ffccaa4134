package io.mlxcap.server.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mlxcap.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The description of a model on disk ({@code config.json}), in the layout {@code mlxcap synth-models}
 * writes and the server loads: the layout real MLX and Hugging Face models use.
 *
 * <pre>
 * DIR/models.json                 the model table (names, aliases, exact sizes)
 * DIR/&lt;dir&gt;/config.json          this record, with Hugging Face's keys where they apply
 *                                 (model_type mlxcap-synth, vocab_size, hidden_size, num_hidden_layers)
 * DIR/&lt;dir&gt;/model.safetensors    float32 tensors, in this order: embed.weight [vocab × hidden],
 *     per layer layers.N.weight [hidden × hidden] and layers.N.bias [hidden],
 *     then lm_head.weight [hidden × vocab] and lm_head.bias [vocab]
 * </pre>
 *
 * @param directory the model's folder name under DIR: its name with every character outside
 *     {@code [A-Za-z0-9._-]} replaced by {@code _}
 */
public record SynthModelFile(String name, List<String> aliases, int vocab, int hidden, int layers, long seed,
    String directory) {

  /** The {@code model_type} of a synthetic model's config.json. */
  public static final String MODEL_TYPE = "mlxcap-synth";
  static final String DESCRIPTION = "config.json";
  /** The weights file of a model folder. */
  public static final String WEIGHTS = "model.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public SynthModelFile {
    aliases = List.copyOf(aliases);
    if (vocab < 2 || hidden < 1 || layers < 1) {
      throw new IllegalArgumentException("vocab >= 2, hidden >= 1, layers >= 1 required");
    }
  }

  /**
   * Reads the model table of a models folder ({@code dir/models.json}).
   *
   * @throws InvalidInputException when the folder has none, saying how to make one
   */
  public static io.mlxcap.model.ModelTable tableOf(Path dir) {
    Path table = dir.resolve("models.json");
    if (!Files.exists(table)) {
      throw new InvalidInputException(dir + " has no models.json; build models with: mlxcap synth-models --out " + dir);
    }
    return io.mlxcap.model.ModelTable.load(table);
  }

  /** The folder name for model {@code name}: safe on any file system, never a path. */
  public static String directoryFor(String name) {
    String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
    return safe.equals(".") || safe.equals("..") ? "_" + safe : safe;
  }

  /** Bytes of the parameters: the model's exact resident size. */
  public long parameterBytes() {
    return 4L * parameterCount();
  }

  long parameterCount() {
    long h = hidden;
    return (long) vocab * h + layers * (h * h + h) + h * vocab + vocab;
  }

  /** The tensors of the weights file, in file order: names, dtype and shapes. */
  List<io.mlxcap.model.Safetensors.Layout> tensors() {
    List<io.mlxcap.model.Safetensors.Layout> tensors = new ArrayList<>();
    tensors.add(new io.mlxcap.model.Safetensors.Layout("embed.weight", "F32", vocab, hidden));
    for (int layer = 0; layer < layers; layer++) {
      tensors.add(new io.mlxcap.model.Safetensors.Layout("layers." + layer + ".weight", "F32", hidden, hidden));
      tensors.add(new io.mlxcap.model.Safetensors.Layout("layers." + layer + ".bias", "F32", hidden));
    }
    tensors.add(new io.mlxcap.model.Safetensors.Layout("lm_head.weight", "F32", hidden, vocab));
    tensors.add(new io.mlxcap.model.Safetensors.Layout("lm_head.bias", "F32", vocab));
    return tensors;
  }

  void write(Path dir) throws IOException {
    ObjectNode node = JSON.createObjectNode();
    node.putArray("architectures").add("MlxcapSynthDecoder");
    node.put("model_type", MODEL_TYPE);
    node.put("name", name);
    node.putArray("aliases").addAll(aliases.stream().map(a -> JSON.getNodeFactory().textNode(a)).toList());
    node.put("vocab_size", vocab);
    node.put("hidden_size", hidden);
    node.put("num_hidden_layers", layers);
    node.put("torch_dtype", "float32");
    node.put("seed", seed);
    node.put("parameter_bytes", parameterBytes());
    JSON.writeValue(dir.resolve(DESCRIPTION).toFile(), node);
  }

  /**
   * Reads {@code dir/config.json}.
   *
   * @throws InvalidInputException when it is missing or malformed, naming the file
   */
  public static SynthModelFile read(Path dir) {
    Path file = dir.resolve(DESCRIPTION);
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (!MODEL_TYPE.equals(node.path("model_type").asText())) {
        throw new InvalidInputException(file + " is not an mlxcap synthetic model (model_type is not " + MODEL_TYPE + ")");
      }
      List<String> aliases = new ArrayList<>();
      node.path("aliases").forEach(a -> aliases.add(a.asText()));
      return new SynthModelFile(node.path("name").asText(), aliases, node.path("vocab_size").asInt(),
          node.path("hidden_size").asInt(), node.path("num_hidden_layers").asInt(), node.path("seed").asLong(),
          dir.getFileName().toString());
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new InvalidInputException("model description " + file + " does not exist"
          + (Files.exists(dir.resolve("model.json")) ? " (the folder has an older mlxcap's model.json and weights.bin:"
              + " build it again with mlxcap synth-models)" : ""));
    } catch (IOException | IllegalArgumentException e) {
      throw new InvalidInputException("cannot read model description " + file + ": " + e.getMessage());
    }
  }
}
