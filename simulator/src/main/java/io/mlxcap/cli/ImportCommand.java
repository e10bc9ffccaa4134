package io.mlxcap.cli;

import io.mlxcap.Durations;
import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.imports.Importer;
import io.mlxcap.imports.Importer.Fields;
import io.mlxcap.imports.Importer.Input;
import io.mlxcap.imports.InputFormat;
import io.mlxcap.imports.TimeFormat;
import io.mlxcap.model.SizeRange;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mlxcap import}: request logs of other tools, and the public traces, into v1 traces. */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = "Convert request logs (CSV or JSON Lines, one request a row) into mlxcap traces. Several inputs are merged by time. Model names go through --map and must be in the model table or given a size with --size. Every error names the file and line.",
    subcommands = {ImportCommand.Csv.class, ImportCommand.Jsonl.class, ImportCommand.Azure.class,
        ImportCommand.Mooncake.class})
final class ImportCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Where the raw public traces the presets convert are committed, relative to the project. */
  static final String SOURCES = "traces/public/sources";

  /**
   * The committed raw file {@code name}: under the project the launcher runs from ({@code mlxcap.home}),
   * else under the working directory.
   */
  static Path committedSource(String name) {
    return Path.of(System.getProperty("mlxcap.home", ".")).resolve(SOURCES).resolve(name);
  }

  /** Options every import takes. */
  static final class Common {
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "The trace to write.")
    Path out;

    @Option(names = "--map", split = ",", paramLabel = "FROM=TO",
        description = "Map a model name of the input onto a model (name or alias) of the table, e.g. code=default,conv=fast.")
    Map<String, String> map = new LinkedHashMap<>();

    @Option(names = "--size", paramLabel = "MODEL=SIZE",
        description = "Give a model that is not in the table a resident size: 20GB, or a range 20GB..25GB.")
    Map<String, String> sizes = new LinkedHashMap<>();

    @Option(names = "--order", defaultValue = "sort", paramLabel = "sort|reject",
        description = "Rows out of time order: sort them (in memory; the default) or stop at the first.")
    String order;

    @Mixin ModelTableOption models;

    Importer.Order order() {
      return switch (order.toLowerCase(Locale.ROOT)) {
        case "sort" -> Importer.Order.SORT;
        case "reject" -> Importer.Order.REJECT;
        default -> throw new InvalidInputException("--order must be sort or reject, was '" + order + "'");
      };
    }

    Map<String, SizeRange> sizeRanges() {
      Map<String, SizeRange> ranges = new LinkedHashMap<>();
      sizes.forEach((model, text) -> ranges.put(model, parseSize(model, text)));
      return ranges;
    }

    private static SizeRange parseSize(String model, String text) {
      try {
        String[] bounds = text.split("\\.\\.");
        return bounds.length == 2
            ? SizeRange.between(ByteSize.parse(bounds[0]), ByteSize.parse(bounds[1]))
            : SizeRange.exactly(ByteSize.parse(text));
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException("--size " + model + "=" + text + ": " + e.getMessage());
      }
    }

    void run(InputFormat format, Fields fields, List<Input> inputs, String source, Map<String, String> defaultMap,
        PrintWriter out) {
      Map<String, String> mapping = new java.util.TreeMap<>(defaultMap);
      mapping.putAll(map);
      String provenance = source + (mapping.isEmpty() ? "" : " --map " + mapping.entrySet().stream()
          .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
      Importer importer = new Importer(format, fields, mapping, sizeRanges(), models.table(), order(), provenance);
      Importer.Summary summary = importer.run(inputs, this.out);
      out.printf(Locale.ROOT, "wrote %d requests to %s: %s; span %s%s%n", summary.requests(), this.out,
          summary.perModel().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")),
          Durations.format(summary.spanNanos() / 1e9),
          summary.startedAt().map(s -> "; started " + s).orElse(""));
    }
  }

  /** Options of the generic importers: which column holds what. */
  abstract static class Generic implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin Common common;

    @Parameters(arity = "1..*", paramLabel = "[LABEL=]FILE",
        description = "Input files. With several, each LABEL (default: the file name) is the model of its rows unless --model-column or --model says otherwise.")
    List<String> inputs;

    @Option(names = "--time", required = true, paramLabel = "FIELD", description = "The field with each request's arrival time.")
    String time;

    @Option(names = "--time-format", defaultValue = "iso", paramLabel = "FORMAT",
        description = "iso (2023-11-16 18:17:03.97, UTC unless it says), epoch-s, epoch-ms, offset-s or offset-ms. Default: ${DEFAULT-VALUE}.")
    String timeFormat;

    @Option(names = "--model-column", paramLabel = "FIELD", description = "The field naming each request's model.")
    String modelField;

    @Option(names = "--model", paramLabel = "MODEL", description = "One model for every row.")
    String fixedModel;

    @Option(names = "--prompt-tokens", paramLabel = "FIELD", description = "The field with prompt tokens.")
    String prompt;

    @Option(names = "--output-tokens", paramLabel = "FIELD", description = "The field with output tokens produced.")
    String output;

    @Option(names = "--latency", paramLabel = "FIELD", description = "The field with each request's service time.")
    String latency;

    @Option(names = "--latency-unit", defaultValue = "ms", paramLabel = "ms|s", description = "Unit of --latency. Default: ${DEFAULT-VALUE}.")
    String latencyUnit;

    abstract InputFormat format();

    @Override
    public void run() {
      if (modelField != null && fixedModel != null) {
        throw new InvalidInputException("give either --model-column or --model, not both");
      }
      TimeFormat format;
      try {
        format = TimeFormat.fromCliName(timeFormat);
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException("--time-format: " + e.getMessage());
      }
      double unit = switch (latencyUnit) {
        case "ms" -> 1;
        case "s" -> 1000;
        default -> throw new InvalidInputException("--latency-unit must be ms or s, was '" + latencyUnit + "'");
      };
      List<Input> files = new ArrayList<>();
      for (String input : inputs) {
        int eq = input.indexOf('=');
        Path file = Path.of(eq < 0 ? input : input.substring(eq + 1));
        String label = eq < 0 ? file.getFileName().toString().replaceFirst("\\.[^.]*$", "") : input.substring(0, eq);
        files.add(new Input(label, file));
      }
      Fields fields = new Fields(time, format, modelField, fixedModel, prompt, output, latency, unit);
      common.run(format(), fields, files, "mlxcap import " + spec.name() + " " + String.join(" ", inputs), Map.of(),
          spec.commandLine().getOut());
    }
  }

  @Command(name = "csv", mixinStandardHelpOptions = true,
      description = "Import CSV files whose first line names the columns.")
  static final class Csv extends Generic {
    @Override
    InputFormat format() {
      return InputFormat.CSV;
    }
  }

  @Command(name = "jsonl", mixinStandardHelpOptions = true,
      description = "Import JSON Lines files, one object a request; fields are top-level keys.")
  static final class Jsonl extends Generic {
    @Override
    InputFormat format() {
      return InputFormat.JSONL;
    }
  }

  @Command(name = "azure-2023", mixinStandardHelpOptions = true,
      description = "Import the Azure LLM inference trace 2023 (Azure/AzurePublicDataset, CC-BY 4.0): TIMESTAMP,ContextTokens,GeneratedTokens. The code and conversation services share one clock, so merging them gives a real two-model interleave; each is mapped onto a model of the table (default code=default, conv=fast; change with --map).")
  static final class Azure implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin Common common;

    @Option(names = "--code", paramLabel = "FILE",
        description = "AzureLLMInferenceTrace_code.csv (or .csv.gz). Without --code and --conv: both committed copies in "
            + SOURCES + ".")
    Path code;

    @Option(names = "--conv", paramLabel = "FILE", description = "AzureLLMInferenceTrace_conv.csv (or .csv.gz).")
    Path conv;

    @Override
    public void run() {
      if (code == null && conv == null) {
        code = committedSource("AzureLLMInferenceTrace_code.csv.gz");
        conv = committedSource("AzureLLMInferenceTrace_conv.csv.gz");
      }
      List<Input> inputs = new ArrayList<>();
      if (code != null) {
        inputs.add(new Input("code", code));
      }
      if (conv != null) {
        inputs.add(new Input("conv", conv));
      }
      // One input alone is still named by its label: the service is the model.
      String fixed = inputs.size() == 1 ? inputs.get(0).label() : null;
      Fields fields = new Fields("TIMESTAMP", TimeFormat.ISO, null, fixed, "ContextTokens", "GeneratedTokens", null, 1);
      common.run(InputFormat.CSV, fields, inputs,
          "mlxcap import azure-2023: Azure LLM inference trace 2023 (github.com/Azure/AzurePublicDataset,"
              + " data/AzureLLMInferenceTrace_{code,conv}.csv, CC-BY 4.0)",
          Map.of("code", "default", "conv", "fast"), spec.commandLine().getOut());
    }
  }

  @Command(name = "mooncake", mixinStandardHelpOptions = true,
      description = "Import the Mooncake conversation trace (kvcache-ai/Mooncake, FAST'25, Apache-2.0): {\"timestamp\": ms, \"input_length\": tokens, \"output_length\": tokens, ...}; one model, chosen with --model (default: default).")
  static final class Mooncake implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin Common common;

    @Parameters(arity = "0..1", paramLabel = "FILE",
        description = "conversation_trace.jsonl (or .jsonl.gz). Default: the committed copy in " + SOURCES + ".")
    Path file;

    @Option(names = "--model", defaultValue = "default", paramLabel = "MODEL",
        description = "The model every request asks for. Default: ${DEFAULT-VALUE}.")
    String model;

    @Override
    public void run() {
      if (file == null) {
        file = committedSource("mooncake_conversation_trace.jsonl.gz");
      }
      Fields fields = new Fields("timestamp", TimeFormat.OFFSET_MS, null, model, "input_length", "output_length", null, 1);
      common.run(InputFormat.JSONL, fields, List.of(new Input("mooncake", file)),
          "mlxcap import mooncake: Mooncake conversation trace (github.com/kvcache-ai/Mooncake,"
              + " FAST25-release/traces/conversation_trace.jsonl, Apache-2.0) --model " + model,
          Map.of(), spec.commandLine().getOut());
    }
  }
}
