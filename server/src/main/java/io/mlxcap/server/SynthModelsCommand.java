package io.mlxcap.server;

import io.mlxcap.InvalidInputException;
import io.mlxcap.ByteSize;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.model.SynthModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap synth-models}: small real models whose sizes are the table's, scaled. */
@Command(name = "synth-models", mixinStandardHelpOptions = true,
    description = "Build the model table's models as small byte-level decoder models (DJL, float32) whose weight "
        + "bytes are each model's expected size × SCALE, deterministic from --seed, in the layout the server loads: "
        + "OUT/models.json and OUT/<model>/{config.json,model.safetensors} (the layout of MLX and Hugging Face models). The text they generate means nothing.")
final class SynthModelsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--scale", defaultValue = "1/200", paramLabel = "S",
      description = "Fraction of each size, e.g. 1/200 (13.75 MB to 325 MB for the seed's models) or 0.001. Default: ${DEFAULT-VALUE}.")
  String scale;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the models.")
  Path out;

  @Option(names = "--seed", defaultValue = "7", paramLabel = "N", description = "Random seed of the weights. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--models", paramLabel = "FILE", description = "Model table JSON. Default: the seed's four models.")
  Path models;

  @Override
  public void run() {
    double fraction = parseScale(scale);
    ModelTable table = models == null ? ModelTable.defaults() : ModelTable.load(models);
    try {
      ModelTable written = SynthModels.write(table, fraction, seed, out);
      for (ModelSpec m : written.models()) {
        spec.commandLine().getOut().printf("%-32s %s%n", m.describe(), ByteSize.format(m.size().expectedBytes()));
      }
      spec.commandLine().getOut().println("wrote " + out.resolve("models.json"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write models to " + out + ": " + e.getMessage(), e);
    }
  }

  static double parseScale(String text) {
    try {
      String[] parts = text.split("/");
      double value = parts.length == 2 ? Double.parseDouble(parts[0]) / Double.parseDouble(parts[1])
          : Double.parseDouble(text);
      if (value > 0 && value <= 1) {
        return value;
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new InvalidInputException("--scale '" + text + "' must be a fraction above 0 and at most 1, e.g. 1/200");
  }
}
