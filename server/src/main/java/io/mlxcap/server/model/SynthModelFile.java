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
 * The description of a model on disk ({@code model.json}), in the layout {@code mlxcap synth-models}
 * writes and the server loads:
 *
 * <pre>
 * DIR/models.json              the model table (names, aliases, exact sizes)
 * DIR/&lt;dir&gt;/model.json         this record
 * DIR/&lt;dir&gt;/weights.bin        little-endian float32, in this order:
 *     embedding [vocab × hidden], then per layer: weight [hidden × hidden], bias [hidden],
 *     then output weight [hidden × vocab], output bias [vocab]
 * </pre>
 *
 * @param directory the model's folder name under DIR: its name with every character outside
 *     {@code [A-Za-z0-9._-]} replaced by {@code _}
 */
public record SynthModelFile(String name, List<String> aliases, int vocab, int hidden, int layers, long seed,
    String directory) {

  static final String FORMAT = "mlxcap-synth-model";
  static final String DESCRIPTION = "model.json";
  static final String WEIGHTS = "weights.bin";
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

  void write(Path dir) throws IOException {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("version", 1);
    node.put("name", name);
    node.putArray("aliases").addAll(aliases.stream().map(a -> JSON.getNodeFactory().textNode(a)).toList());
    node.put("vocab", vocab);
    node.put("hidden", hidden);
    node.put("layers", layers);
    node.put("dtype", "float32");
    node.put("seed", seed);
    node.put("parameter_bytes", parameterBytes());
    node.put("weights", WEIGHTS);
    JSON.writeValue(dir.resolve(DESCRIPTION).toFile(), node);
  }

  /**
   * Reads {@code dir/model.json}.
   *
   * @throws InvalidInputException when it is missing or malformed, naming the file
   */
  public static SynthModelFile read(Path dir) {
    Path file = dir.resolve(DESCRIPTION);
    try {
      JsonNode node = JSON.readTree(file.toFile());
      if (!FORMAT.equals(node.path("format").asText())) {
        throw new InvalidInputException(file + " is not an mlxcap model description");
      }
      List<String> aliases = new ArrayList<>();
      node.path("aliases").forEach(a -> aliases.add(a.asText()));
      return new SynthModelFile(node.path("name").asText(), aliases, node.path("vocab").asInt(), node.path("hidden").asInt(),
          node.path("layers").asInt(), node.path("seed").asLong(), dir.getFileName().toString());
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("model description " + file + " does not exist");
    } catch (IOException | IllegalArgumentException e) {
      throw new InvalidInputException("cannot read model description " + file + ": " + e.getMessage());
    }
  }
}
