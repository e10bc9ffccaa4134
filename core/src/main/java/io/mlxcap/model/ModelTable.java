package io.mlxcap.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.JsonErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The models a server knows, found by name or alias.
 *
 * <p>The built-in table is the seed's four models ({@link #defaults()}); any other comes from a JSON
 * file in the format of {@code default-models.json} beside this class and described in the README
 * ("Model table"). Names and aliases share one namespace and are matched exactly.
 */
public final class ModelTable {
  private static final String DEFAULT_RESOURCE = "default-models.json";
  private static final Set<String> TOP_FIELDS = Set.of("format", "version", "models");
  private static final Set<String> MODEL_FIELDS =
      Set.of("name", "aliases", "size", "kv_bytes_per_token", "prefill_tokens_per_s", "decode_tokens_per_s",
          "overhead_bytes", "context_tokens", "source");
  private static final Set<String> SIZE_FIELDS = Set.of("low", "expected", "high");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<ModelSpec> models;
  private final Map<String, ModelSpec> byNameOrAlias;

  private ModelTable(List<ModelSpec> models) {
    if (models.isEmpty()) {
      throw new IllegalArgumentException("a model table needs at least one model");
    }
    this.models = List.copyOf(models);
    Map<String, ModelSpec> index = new LinkedHashMap<>();
    for (ModelSpec model : this.models) {
      for (String key : keysOf(model)) {
        ModelSpec earlier = index.putIfAbsent(key, model);
        if (earlier != null) {
          throw new IllegalArgumentException(
              "'" + key + "' names both " + earlier.name() + " and " + model.name());
        }
      }
    }
    this.byNameOrAlias = index;
  }

  private static List<String> keysOf(ModelSpec model) {
    List<String> keys = new ArrayList<>();
    keys.add(model.name());
    keys.addAll(model.aliases());
    return keys;
  }

  /** A table of exactly these models, in this order. */
  public static ModelTable of(List<ModelSpec> models) {
    return new ModelTable(models);
  }

  /** The seed's four models: phi3.5:3.8b (fast), qwen2.5-coder:32b (default), the 70b and the 104b. */
  public static ModelTable defaults() {
    try (InputStream in = ModelTable.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the built-in model table " + DEFAULT_RESOURCE + " is missing from the jar");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in model table");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a model table from a JSON file. */
  public static ModelTable load(Path file) {
    try {
      return parse(Files.readString(file), file.toString());
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("model table " + file + " does not exist");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read model table " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a model table from JSON text; {@code source} names it in error messages.
   *
   * @throws InvalidInputException naming the source and the field that is wrong
   */
  public static ModelTable parse(String json, String source) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(
          source + " is not valid JSON (line " + e.getLocation().getLineNr() + "): "
              + JsonErrors.reason(e));
    }
    try {
      return new ModelTable(readModels(root));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(source + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a table from the {@code models} array of the table format (as a trace header embeds it).
   *
   * @throws IllegalArgumentException saying which entry is wrong, for the caller to place
   */
  public static ModelTable fromJsonArray(JsonNode array) {
    ObjectNode root = JSON.createObjectNode();
    root.set("models", array);
    return new ModelTable(readModels(root));
  }

  /** Returns the {@code models} array of the table format, sizes in bytes, as a trace header embeds it. */
  public ArrayNode toJsonArray() {
    ArrayNode array = JSON.createArrayNode();
    for (ModelSpec model : models) {
      ObjectNode node = array.addObject();
      node.put("name", model.name());
      ArrayNode aliases = node.putArray("aliases");
      model.aliases().forEach(aliases::add);
      ObjectNode size = node.putObject("size");
      size.put("low", model.size().lowBytes());
      size.put("expected", model.size().expectedBytes());
      size.put("high", model.size().highBytes());
      node.put("kv_bytes_per_token", model.performance().kvBytesPerToken());
      node.put("prefill_tokens_per_s", model.performance().prefillTokensPerSecond());
      node.put("decode_tokens_per_s", model.performance().decodeTokensPerSecond());
      ModelSpec.Details d = model.details();
      if (d.overheadBytes() > 0) {
        node.put("overhead_bytes", d.overheadBytes());
      }
      if (d.contextTokens() > 0) {
        node.put("context_tokens", d.contextTokens());
      }
      if (!d.source().isEmpty()) {
        node.put("source", d.source());
      }
    }
    return array;
  }

  /** Returns a table with these models added after this table's; names and aliases must stay distinct. */
  public ModelTable plus(List<ModelSpec> more) {
    List<ModelSpec> all = new ArrayList<>(models);
    all.addAll(more);
    return new ModelTable(all);
  }

  private static List<ModelSpec> readModels(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("expected a JSON object with a \"models\" array");
    }
    requireKnownFields(root, TOP_FIELDS, "the top level");
    JsonNode version = root.get("version");
    if (version != null && !(version.isInt() && version.asInt() == 1)) {
      throw new IllegalArgumentException("version " + version + " is not supported; this mlxcap reads version 1");
    }
    JsonNode array = root.get("models");
    if (array == null || !array.isArray()) {
      throw new IllegalArgumentException("expected a \"models\" array");
    }
    List<ModelSpec> models = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      String where = "models[" + i + "]";
      try {
        models.add(readModel(array.get(i), where));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return models;
  }

  private static ModelSpec readModel(JsonNode node, String where) {
    if (!node.isObject()) {
      throw new IllegalArgumentException("expected an object with name, aliases and size");
    }
    requireKnownFields(node, MODEL_FIELDS, where);
    JsonNode name = node.get("name");
    if (name == null || !name.isTextual()) {
      throw new IllegalArgumentException("\"name\" must be a string");
    }
    List<String> aliases = new ArrayList<>();
    JsonNode aliasNode = node.get("aliases");
    if (aliasNode != null) {
      if (!aliasNode.isArray()) {
        throw new IllegalArgumentException("\"aliases\" must be an array of strings");
      }
      for (JsonNode alias : aliasNode) {
        if (!alias.isTextual()) {
          throw new IllegalArgumentException("\"aliases\" must be an array of strings");
        }
        aliases.add(alias.asText());
      }
    }
    Performance d = Performance.DEFAULT;
    Performance performance = new Performance(
        node.has("kv_bytes_per_token") ? bytes(node.get("kv_bytes_per_token"), "kv_bytes_per_token") : d.kvBytesPerToken(),
        rate(node, "prefill_tokens_per_s", d.prefillTokensPerSecond()),
        rate(node, "decode_tokens_per_s", d.decodeTokensPerSecond()));
    JsonNode source = node.get("source");
    if (source != null && !source.isTextual()) {
      throw new IllegalArgumentException("\"source\" must be a string");
    }
    ModelSpec.Details details = new ModelSpec.Details(
        node.has("overhead_bytes") ? bytes(node.get("overhead_bytes"), "overhead_bytes") : 0,
        node.has("context_tokens") ? whole(node.get("context_tokens"), "context_tokens") : 0,
        source == null ? "" : source.asText());
    return new ModelSpec(name.asText(), aliases, readSize(node.get("size")), performance, details);
  }

  private static long whole(JsonNode node, String field) {
    if (!node.isIntegralNumber() || node.asLong() < 0) {
      throw new IllegalArgumentException(field + " must be a whole number >= 0");
    }
    return node.asLong();
  }

  private static double rate(JsonNode model, String field, double fallback) {
    JsonNode node = model.get(field);
    if (node == null) {
      return fallback;
    }
    if (!node.isNumber()) {
      throw new IllegalArgumentException(field + " must be a number of tokens per second");
    }
    return node.asDouble();
  }

  private static SizeRange readSize(JsonNode size) {
    if (size == null) {
      throw new IllegalArgumentException("\"size\" is missing");
    }
    if (!size.isObject()) {
      return SizeRange.exactly(bytes(size, "size"));
    }
    requireKnownFields(size, SIZE_FIELDS, "size");
    if (size.get("low") == null || size.get("high") == null) {
      throw new IllegalArgumentException("\"size\" needs both \"low\" and \"high\" (or give one value)");
    }
    long low = bytes(size.get("low"), "size.low");
    long high = bytes(size.get("high"), "size.high");
    JsonNode expected = size.get("expected");
    return expected == null
        ? SizeRange.between(low, high)
        : new SizeRange(low, bytes(expected, "size.expected"), high);
  }

  private static long bytes(JsonNode node, String field) {
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (!node.isTextual()) {
      throw new IllegalArgumentException(field + " must be a number of bytes or a string such as \"2.5GB\"");
    }
    try {
      return ByteSize.parse(node.asText());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + " '" + node.asText() + "': " + e.getMessage(), e);
    }
  }

  private static void requireKnownFields(JsonNode node, Set<String> known, String where) {
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String field = names.next();
      if (!known.contains(field)) {
        throw new IllegalArgumentException(
            "unknown field \"" + field + "\" in " + where + "; known fields: "
                + known.stream().sorted().collect(Collectors.joining(", ")));
      }
    }
  }

  /** Returns the models in the table's order. */
  public List<ModelSpec> models() {
    return models;
  }

  /** Returns the model that {@code nameOrAlias} names, if any. */
  public Optional<ModelSpec> find(String nameOrAlias) {
    return Optional.ofNullable(byNameOrAlias.get(nameOrAlias));
  }

  /**
   * Returns the model that {@code nameOrAlias} names.
   *
   * @throws InvalidInputException naming the unknown model and listing the known ones
   */
  public ModelSpec resolve(String nameOrAlias) {
    ModelSpec model = byNameOrAlias.get(nameOrAlias);
    if (model == null) {
      throw new InvalidInputException(
          "unknown model '" + nameOrAlias + "'; known models: " + describeAll());
    }
    return model;
  }

  /** Returns every model as {@code name (aliases)}, comma-separated, for messages. */
  public String describeAll() {
    return models.stream().map(ModelSpec::describe).collect(Collectors.joining(", "));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelTable other && models.equals(other.models);
  }

  @Override
  public int hashCode() {
    return models.hashCode();
  }

  @Override
  public String toString() {
    return "ModelTable[" + describeAll() + "]";
  }
}
