package io.mlxcap.cli;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.inspect.Inspection;
import io.mlxcap.inspect.ModelInspector;
import io.mlxcap.model.ModelTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mlxcap models}: a model table from the models' own files. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "Model tables from model files.",
    subcommands = {ModelsCommand.Inspect.class})
final class ModelsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "inspect", mixinStandardHelpOptions = true,
      description = "Size models from their files, reading only the headers: an MLX or Hugging Face folder (config.json "
          + "and *.safetensors, sharded or not, MLX-quantized or not) or a GGUF file (v2 or v3; Ollama's blobs are GGUF). "
          + "Prints parameters, dtype or quantization, weight bytes, KV cache bytes per 1k tokens (2 x layers x KV heads "
          + "x head size x bytes per value, grouped-query attention and sliding windows as the config says), context, "
          + "and the resident size of one request at full context; -o writes a model table for simulate, sweep and report.")
  static final class Inspect implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Model folders or GGUF files.")
    List<Path> paths;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the model table here.")
    Path out;

    @Option(names = "--context", paramLabel = "TOKENS", description = "Context to assume instead of each model's own.")
    long context;

    @Option(names = "--kv-dtype", defaultValue = "f16", paramLabel = "DTYPE",
        description = "The KV cache's value type: f16, bf16, f32, q8_0 or q4_0. Default: ${DEFAULT-VALUE}.")
    String kvDtype;

    @Option(names = "--alias", split = ",", paramLabel = "NAME=ALIAS",
        description = "Give a model an alias in the table, e.g. --alias Qwen2.5-Coder-32B-Instruct-4bit=default.")
    Map<String, String> aliasOptions = new LinkedHashMap<>();

    @Override
    public void run() {
      Double valueBytes = ModelInspector.KV_DTYPES.get(kvDtype.toLowerCase(Locale.ROOT));
      if (valueBytes == null) {
        throw new InvalidInputException("--kv-dtype '" + kvDtype + "' is not one of f16, bf16, f32, q8_0, q4_0");
      }
      if (context < 0) {
        throw new InvalidInputException("--context must be a number of tokens >= 1, was " + context);
      }
      ModelInspector inspector = new ModelInspector(valueBytes, context);
      List<Inspection> inspected = new ArrayList<>();
      for (Path path : paths) {
        inspected.add(inspector.inspect(path));
      }
      List<Inspection> models = ModelInspector.distinctNames(inspected);
      Map<String, List<String>> aliases = new LinkedHashMap<>();
      aliasOptions.forEach((name, alias) -> {
        if (models.stream().noneMatch(m -> m.name().equals(name))) {
          throw new InvalidInputException("--alias " + name + "=" + alias + ": no model inspected is called " + name);
        }
        aliases.computeIfAbsent(name, k -> new ArrayList<>()).add(alias);
      });
      String table = ModelInspector.table(models, aliases);
      ModelTable.parse(table, "the table made"); // names and aliases must be distinct: one sentence if not
      PrintWriter stdout = spec.commandLine().getOut();
      stdout.printf("%-34s %10s  %-26s %10s %12s %9s %14s%n", "model", "parameters", "dtype", "weights", "KV per 1k tok",
          "context", "at full context");
      for (Inspection m : models) {
        stdout.printf(Locale.ROOT, "%-34s %10s  %-26s %10s %12s %9s %14s%n", m.name(), count(m.parameters()), m.dtype(),
            ByteSize.format(m.weightBytes()), m.kvBytesPerToken().map(kv -> ByteSize.format(kv * 1000)).orElse("unknown"),
            m.contextTokens() > 0 ? String.format(Locale.ROOT, "%,d", m.contextTokens()) : "unknown",
            m.residentAtFullContext().map(ByteSize::format).orElse("unknown"));
      }
      if (out != null) {
        try {
          Path parent = out.toAbsolutePath().getParent();
          Files.createDirectories(parent);
          Files.writeString(out, table);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
        stdout.println("wrote " + out + " (use it with --models " + out + ")");
      }
    }

    private static String count(long n) {
      return n >= 1e9 ? String.format(Locale.ROOT, "%.2fB", n / 1e9)
          : n >= 1e6 ? String.format(Locale.ROOT, "%.1fM", n / 1e6) : Long.toString(n);
    }
  }
}
