package io.mlxcap.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class ModelTableTest {
  private final ModelTable table = ModelTable.defaults();

  @Test
  void defaults_areTheSeedsFourModels() {
    assertEquals(
        List.of("phi3.5:3.8b", "qwen2.5-coder:32b", "deepseek-r1-distill-llama:70b", "command-r-plus:104b"),
        table.models().stream().map(ModelSpec::name).toList());
    assertEquals(new SizeRange(2_500_000_000L, 2_750_000_000L, 3_000_000_000L), table.resolve("fast").size());
    assertEquals(new SizeRange(20_000_000_000L, 22_500_000_000L, 25_000_000_000L), table.resolve("default").size());
    assertEquals(new SizeRange(40_000_000_000L, 45_000_000_000L, 50_000_000_000L), table.resolve("reasoning").size());
    assertEquals(SizeRange.exactly(65_000_000_000L), table.resolve("command-r-plus:104b").size());
  }

  @ParameterizedTest
  @CsvSource({
    "fast, phi3.5:3.8b",
    "phi3.5:3.8b, phi3.5:3.8b",
    "default, qwen2.5-coder:32b",
    "reasoning, deepseek-r1-distill-llama:70b",
  })
  void resolve_nameOrAlias(String asked, String canonical) {
    assertEquals(canonical, table.resolve(asked).name());
  }

  @Test
  void resolve_unknown_listsKnownModels() {
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> table.resolve("gpt-4"));
    assertEquals(
        "unknown model 'gpt-4'; known models: phi3.5:3.8b (fast), qwen2.5-coder:32b (default),"
            + " deepseek-r1-distill-llama:70b (reasoning), command-r-plus:104b",
        e.getMessage());
    assertTrue(table.find("Fast").isEmpty(), "names are matched exactly");
  }

  @Test
  void parse_sizesAsNumbersStringsAndRanges() {
    ModelTable t = ModelTable.parse("""
        {"models": [
          {"name": "a", "size": 1000},
          {"name": "b", "aliases": ["bee"], "size": {"low": "1GB", "high": "3GB"}},
          {"name": "c", "size": {"low": "1GB", "expected": "1.2GB", "high": "3GB"}}
        ]}""", "t.json");
    assertEquals(SizeRange.exactly(1000), t.resolve("a").size());
    assertEquals(2_000_000_000L, t.resolve("bee").size().expectedBytes());
    assertEquals(1_200_000_000L, t.resolve("c").size().bytes(SizeRange.Estimate.EXPECTED));
    assertEquals(3_000_000_000L, t.resolve("c").size().bytes(SizeRange.Estimate.HIGH));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "{\"models\": [{\"name\": \"a\"}]}| t.json: models[0]: \"size\" is missing",
    "{\"models\": [{\"name\": \"a\", \"size\": \"lots\"}]}| t.json: models[0]: size 'lots': expected a size",
    "{\"models\": [{\"name\": \"a\", \"size\": {\"low\": \"3GB\", \"high\": \"1GB\"}}]}| t.json: models[0]: sizes must satisfy low <= expected <= high",
    "{\"models\": [{\"name\": \"a\", \"size\": 1}, {\"name\": \"b\", \"aliases\": [\"a\"], \"size\": 1}]}| t.json: 'a' names both a and b",
    "{\"models\": [{\"name\": \"a\", \"sise\": 1}]}| t.json: models[0]: unknown field \"sise\" in models[0]; known fields: aliases, context_tokens, decode_tokens_per_s, kv_bytes_per_token, name, overhead_bytes, prefill_tokens_per_s, size, source",
    "{\"models\": []}| t.json: a model table needs at least one model",
    "{\"models\": [{\"name\": \"a b\", \"size\": 1}]}| t.json: models[0]: a model name must not contain spaces",
    "{\"models\": [{\"name\": \"a,b\", \"size\": 1}]}| t.json: models[0]: a model name must not contain a comma",
    "{\"version\": 2, \"models\": []}| t.json: version 2 is not supported",
    "[1, 2]| t.json: expected a JSON object",
    "{\"models\": [}| t.json is not valid JSON (line 1)",
  })
  void parse_badInput_oneSentenceNamingTheSpot(String json, String expectedStart) {
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelTable.parse(json, "t.json"));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
  }

  @Test
  void performance_fromTheTable_orDefaults() {
    assertEquals(new Performance(393_216, 2000, 100), table.resolve("fast").performance());
    assertEquals(new Performance(327_680, 180, 12), table.resolve("reasoning").performance());
    ModelTable t = ModelTable.parse("""
        {"models": [{"name": "a", "size": 1, "decode_tokens_per_s": 42.5}, {"name": "b", "size": 1}]}""", "t");
    assertEquals(new Performance(262_144, 200, 42.5), t.resolve("a").performance());
    assertEquals(Performance.DEFAULT, t.resolve("b").performance());
    assertEquals(1_500_000_000L, new Performance(0, 100, 10).serviceNanos(100, 5));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelTable.parse(
        "{\"models\": [{\"name\": \"a\", \"size\": 1, \"prefill_tokens_per_s\": 0}]}", "t"));
    assertEquals("t: models[0]: prefill_tokens_per_s and decode_tokens_per_s must be > 0, were 0.0 and 20.0", e.getMessage());
  }

  @Test
  void jsonArray_roundTrips() {
    assertEquals(table, ModelTable.fromJsonArray(table.toJsonArray()));
  }

  @Test
  void load_fromFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("models.json");
    Files.writeString(file, "{\"models\": [{\"name\": \"tiny\", \"aliases\": [\"t\"], \"size\": \"12MB\"}]}");
    assertEquals(12_000_000L, ModelTable.load(file).resolve("t").size().expectedBytes());
    InvalidInputException missing =
        assertThrows(InvalidInputException.class, () -> ModelTable.load(dir.resolve("nope.json")));
    assertTrue(missing.getMessage().endsWith("nope.json does not exist"), missing.getMessage());
  }

  @Test
  void details_roundTrip_andOverheadAddsToResidentBytes() {
    ModelTable t = ModelTable.parse("{\"models\":[{\"name\":\"m\",\"size\":\"10GB\",\"overhead_bytes\":\"1.5GB\","
        + "\"context_tokens\":32768,\"source\":\"/models/m (safetensors)\"}]}", "t.json");
    ModelSpec m = t.resolve("m");
    assertEquals(new ModelSpec.Details(1_500_000_000L, 32768, "/models/m (safetensors)"), m.details());
    assertEquals(11_500_000_000L, m.residentBytes(SizeRange.Estimate.HIGH));
    ModelTable again = ModelTable.fromJsonArray(t.toJsonArray());
    assertEquals(m.details(), again.resolve("m").details());
    assertFalse(ModelTable.defaults().toJsonArray().toString().contains("overhead_bytes"),
        "unset details stay out of what trace headers embed");
  }
}
