package io.mlxcap.server.model;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds small decoder language models whose weight bytes are a table's sizes scaled down, so the
 * server can tell the seed's story on a laptop: byte vocabulary, an embedding, tanh layers, an output
 * projection. Weights are uniform from a seed (embeddings ±1, layer and output weights ±√(3/hidden),
 * biases ±0.01): the same arguments give the same bytes.
 */
public final class SynthModels {
  /** The byte vocabulary every synthetic model uses. */
  public static final int VOCAB = 256;

  private SynthModels() {}

  /** The shape of a model of about {@code targetBytes}: hidden 512 below 64 MB, else 1024; layers to fill. */
  static SynthModelFile shape(ModelSpec model, long targetBytes, long seed) {
    int hidden = targetBytes < 64_000_000L ? 512 : 1024;
    long fixed = 4L * (2L * VOCAB * hidden + VOCAB);
    long perLayer = 4L * ((long) hidden * hidden + hidden);
    int layers = (int) Math.max(1, Math.round((targetBytes - fixed) / (double) perLayer));
    return new SynthModelFile(model.name(), model.aliases(), VOCAB, hidden, layers, seed,
        SynthModelFile.directoryFor(model.name()));
  }

  /**
   * Writes every model of {@code table}, sized {@code scale} × its expected size, under {@code out},
   * plus {@code out/models.json}, the table of what was written with exact sizes; returns it.
   */
  public static ModelTable write(ModelTable table, double scale, long seed, Path out) throws IOException {
    Files.createDirectories(out);
    List<ModelSpec> written = new ArrayList<>();
    int index = 0;
    for (ModelSpec model : table.models()) {
      SynthModelFile file = shape(model, Math.round(model.size().expectedBytes() * scale), seed + index++);
      Path dir = out.resolve(file.directory());
      Files.createDirectories(dir);
      writeWeights(file, dir.resolve(SynthModelFile.WEIGHTS));
      file.write(dir);
      // The context is the published model's; the working memory is the synthetic model's own (see
      // LoadedModel.generate), so a replay's per-request memory is what this server's requests take.
      io.mlxcap.model.Performance p = model.performance();
      written.add(new ModelSpec(model.name(), model.aliases(), SizeRange.exactly(file.parameterBytes()),
          new io.mlxcap.model.Performance(4L * file.hidden(), p.prefillTokensPerSecond(), p.decodeTokensPerSecond()),
          new ModelSpec.Details(0, model.details().contextTokens(), "")));
    }
    ModelTable result = ModelTable.of(written);
    com.fasterxml.jackson.databind.node.ObjectNode root = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    root.put("format", "mlxcap-models");
    root.put("version", 1);
    root.set("models", result.toJsonArray());
    new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
        .writeValue(out.resolve("models.json").toFile(), root);
    return result;
  }

  private static void writeWeights(SynthModelFile file, Path weights) throws IOException {
    SplittableRandom random = new SplittableRandom(file.seed());
    long v = file.vocab();
    long h = file.hidden();
    // Weights keep the signal's variance through the tanh layers (±√(3/h)); biases stay small.
    double weight = Math.sqrt(3.0 / h);
    double bias = 0.01;
    ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream out = Files.newOutputStream(weights)) {
      out.write(io.mlxcap.model.Safetensors.header(file.tensors(),
          java.util.Map.of("format", "pt", "producer", "mlxcap synth-models")));
      fill(out, buffer, random, v * h, 1.0);
      for (int layer = 0; layer < file.layers(); layer++) {
        fill(out, buffer, random, h * h, weight);
        fill(out, buffer, random, h, bias);
      }
      fill(out, buffer, random, h * v, weight);
      fill(out, buffer, random, v, bias);
      out.write(buffer.array(), 0, buffer.position());
    }
  }

  private static void fill(OutputStream out, ByteBuffer buffer, SplittableRandom random, long count, double bound)
      throws IOException {
    for (long i = 0; i < count; i++) {
      if (!buffer.hasRemaining()) {
        out.write(buffer.array(), 0, buffer.position());
        buffer.clear();
      }
      buffer.putFloat((float) ((random.nextDouble() * 2 - 1) * bound));
    }
  }
}
