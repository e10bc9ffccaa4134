package io.mlxcap.cli;

import io.mlxcap.model.ModelTable;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --models FILE} option: a model table instead of the built-in seed table. */
final class ModelTableOption {
  @Option(names = "--models", paramLabel = "FILE",
      description = "Model table JSON (format in README, 'Model table'); default: the seed's four models.")
  Path file;

  ModelTable table() {
    return file == null ? ModelTable.defaults() : ModelTable.load(file);
  }
}
