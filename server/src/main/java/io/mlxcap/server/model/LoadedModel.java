package io.mlxcap.server.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import io.mlxcap.model.Safetensors;
import java.util.function.IntPredicate;

/**
 * A synthetic model loaded in this process: its tensors in libtorch memory, and generation over them.
 *
 * <p><b>Loading</b> reads {@code model.safetensors}: its header names each tensor's place, checked against
 * the shapes {@code config.json} implies. It is staged (DJL-NOTES.md): each tensor is read into one reusable
 * direct buffer and copied into its own tensor, so the file is never held twice and nothing waits for
 * the garbage collector. <b>Closing</b> frees the tensors at once and trims glibc's heap, so the RSS
 * goes back down. Never close a model while a generation runs on it: the server's pins see to that.
 *
 * <p><b>Generation</b>: h(t) = layers(embedding(x(t)) + mean of the embeddings before it), each layer
 * tanh(h·W + b), then logits = h·W_out + b_out over bytes. The prompt runs as one batch (prefill);
 * output bytes are chosen one at a time (decode), greedily or by temperature, among printable ASCII.
 * The text means nothing; the work and the memory are real.
 */
public final class LoadedModel implements AutoCloseable {
  private static final int STAGE_BYTES = 4 << 20;
  /**
   * One stage buffer per loader thread, reused: a direct buffer is freed only when the garbage
   * collector gets to it, so a fresh one per load left 4 MB of RSS behind each load until a GC.
   */
  private static final ThreadLocal<ByteBuffer> STAGE =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(STAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN));
  private static final IntPredicate PRINTABLE = b -> b >= 32 && b < 127;

  private final SynthModelFile file;
  private final NDManager manager;
  private final NDArray embedding;
  private final List<NDArray> weights = new ArrayList<>();
  private final List<NDArray> biases = new ArrayList<>();
  private final NDArray outWeight;
  private final NDArray outBias;
  private boolean closed;

  private LoadedModel(SynthModelFile file, NDManager manager, NDArray embedding, NDArray outWeight, NDArray outBias) {
    this.file = file;
    this.manager = manager;
    this.embedding = embedding;
    this.outWeight = outWeight;
    this.outBias = outBias;
  }

  /**
   * Loads the model in {@code dir}.
   *
   * @throws IOException when the weights are missing, short or unreadable
   */
  public static LoadedModel load(Path dir) throws IOException {
    Checked checked = check(dir);
    SynthModelFile file = checked.file();
    Path weights = dir.resolve(SynthModelFile.WEIGHTS);
    long dataStart = checked.dataStart();
    NDManager manager = DjlEngine.root().newSubManager();
    try (FileChannel channel = FileChannel.open(weights, StandardOpenOption.READ)) {
      ByteBuffer stage = STAGE.get();
      List<NDArray> loaded = new ArrayList<>();
      for (Safetensors.Layout want : file.tensors()) {
        Safetensors.Tensor t = checked.tensors().get(want.name());
        channel.position(dataStart + t.begin());
        loaded.add(read(channel, stage, manager, new Shape(want.shape())));
      }
      int last = loaded.size() - 1;
      LoadedModel model = new LoadedModel(file, manager, loaded.get(0), loaded.get(last - 1), loaded.get(last));
      for (int layer = 0; layer < file.layers(); layer++) {
        model.weights.add(loaded.get(1 + 2 * layer));
        model.biases.add(loaded.get(2 + 2 * layer));
      }
      return model;
    } catch (IOException | RuntimeException e) {
      manager.close();
      DjlEngine.trim();
      throw e;
    }
  }

  /** What {@link #check} found: the description, the weights' tensors by name and where their data begins. */
  public record Checked(SynthModelFile file, Map<String, Safetensors.Tensor> tensors, long dataStart) {}

  /**
   * Checks what can be checked of the model in {@code dir} without loading it: its description reads,
   * its weights file has a well-formed header holding every tensor the description needs, in the
   * right dtype and shape, and is long enough for all of them. Reads two small files; a load that
   * passes this can still fail, but not for a missing, cut-short or mismatched file.
   *
   * @throws IOException one sentence saying what is wrong
   */
  public static Checked check(Path dir) throws IOException {
    SynthModelFile file;
    Safetensors header;
    try {
      file = SynthModelFile.read(dir);
      header = Safetensors.read(dir.resolve(SynthModelFile.WEIGHTS));
    } catch (io.mlxcap.InvalidInputException | java.io.UncheckedIOException e) {
      throw new IOException(e.getMessage(), e);
    }
    Map<String, Safetensors.Tensor> tensors = new HashMap<>();
    header.tensors().forEach(t -> tensors.put(t.name(), t));
    for (Safetensors.Layout want : file.tensors()) {
      Safetensors.Tensor t = tensors.get(want.name());
      if (t == null || !t.dtype().equals(want.dtype()) || !java.util.Arrays.equals(t.shape(), want.shape())) {
        throw new IOException(dir.resolve(SynthModelFile.WEIGHTS) + " lacks tensor " + want.name() + " " + want.dtype()
            + java.util.Arrays.toString(want.shape()) + " that " + file.name() + "'s config.json needs");
      }
    }
    return new Checked(file, tensors, header.dataStart());
  }

  /** Reads one tensor in pieces of the stage buffer, copying each into libtorch memory. */
  private static NDArray read(FileChannel channel, ByteBuffer stage, NDManager manager, Shape shape) throws IOException {
    long bytes = 4L * shape.size();
    if (bytes <= STAGE_BYTES) {
      return copy(fill(channel, stage, (int) bytes), manager, shape);
    }
    long rows = shape.get(0);
    long rowBytes = bytes / rows;
    int rowsPerPiece = (int) Math.max(1, STAGE_BYTES / rowBytes);
    List<NDArray> pieces = new ArrayList<>();
    try (NDManager scratch = manager.newSubManager()) {
      for (long row = 0; row < rows; row += rowsPerPiece) {
        int n = (int) Math.min(rowsPerPiece, rows - row);
        pieces.add(copy(fill(channel, stage, (int) (n * rowBytes)), scratch, new Shape(n, shape.get(1))));
      }
      NDArray whole = NDArrays.concat(new ai.djl.ndarray.NDList(pieces.toArray(new NDArray[0])));
      whole.attach(manager);
      return whole;
    }
  }

  private static ByteBuffer fill(FileChannel channel, ByteBuffer stage, int bytes) throws IOException {
    stage.clear().limit(bytes);
    while (stage.hasRemaining()) {
      if (channel.read(stage) < 0) {
        throw new IOException("the weights file ended early");
      }
    }
    return stage.flip();
  }

  /** A tensor that owns its memory: DJL aliases a direct buffer, so the alias is duplicated and dropped. */
  private static NDArray copy(ByteBuffer data, NDManager manager, Shape shape) {
    try (NDManager scratch = manager.newSubManager()) {
      NDArray alias = scratch.create(data.order(ByteOrder.nativeOrder()), shape, DataType.FLOAT32);
      NDArray owned = alias.duplicate();
      owned.attach(manager);
      return owned;
    }
  }

  /** The model's name. */
  public String name() {
    return file.name();
  }

  /** Working memory a token of context takes while this model generates (see {@link #generate}). */
  public long workingBytesPerToken() {
    return 4L * file.hidden();
  }

  /** The bytes of its parameters: its exact size. */
  public long bytes() {
    return file.parameterBytes();
  }

  /** What a generation produced. */
  public record Generation(String text, int promptTokens, int outputTokens) {}

  /**
   * Reads {@code prompt} as bytes and writes up to {@code maxTokens} new ones, each handed to
   * {@code sink} as it is made (for streaming, stop sequences, cancellation); generation stops early
   * when the sink answers false. {@code temperature} 0 is greedy.
   *
   * <p>Working memory: the prompt's embeddings, 4 × hidden bytes a prompt token (the stand-in for a
   * KV cache), freed when the generation ends; the table's {@code kv_bytes_per_token} says so.
   */
  public Generation generate(String prompt, int maxTokens, double temperature, long seed,
      java.util.function.Predicate<String> sink) {
    if (closed) {
      throw new IllegalStateException(file.name() + " is closed");
    }
    byte[] input = prompt.getBytes(StandardCharsets.UTF_8);
    if (input.length == 0) {
      input = new byte[] {'\n'};
    }
    Random random = new Random(seed);
    StringBuilder text = new StringBuilder(maxTokens);
    try (NDManager scratch = manager.newSubManager()) {
      int[] ids = new int[input.length];
      for (int i = 0; i < input.length; i++) {
        ids[i] = input[i] & 0xff;
      }
      NDArray tokens = scratch.create(ids);
      NDArray embedded = embedding.get(tokens);
      embedded.attach(scratch);
      NDArray sum = embedded.sum(new int[] {0});
      // Only the last position's state is needed to go on: no second prompt-sized tensor.
      NDArray last = embedded.get(ids.length - 1).add(sum.div(ids.length));
      NDArray logits = forward(last.reshape(1, file.hidden()));
      int count = ids.length;
      for (int step = 0; step < maxTokens; step++) {
        int next = choose(logits.toFloatArray(), temperature, random);
        String piece = String.valueOf((char) next);
        text.append(piece);
        if (!sink.test(piece)) {
          return new Generation(text.toString(), input.length, step + 1);
        }
        NDArray e = embedding.get(next);
        e.attach(scratch);
        sum = sum.add(e);
        count++;
        logits = forward(e.add(sum.div(count)).reshape(1, file.hidden()));
      }
    }
    return new Generation(text.toString(), input.length, maxTokens);
  }

  private NDArray forward(NDArray x) {
    NDArray h = x;
    for (int i = 0; i < weights.size(); i++) {
      h = h.matMul(weights.get(i)).add(biases.get(i)).tanh();
    }
    return h.matMul(outWeight).add(outBias).reshape(file.vocab());
  }

  private static int choose(float[] logits, double temperature, Random random) {
    if (temperature <= 0) {
      int best = -1;
      for (int i = 0; i < logits.length; i++) {
        if (PRINTABLE.test(i) && (best < 0 || logits[i] > logits[best])) {
          best = i;
        }
      }
      return best;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < logits.length; i++) {
      if (PRINTABLE.test(i)) {
        max = Math.max(max, logits[i]);
      }
    }
    double[] p = new double[logits.length];
    double total = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = PRINTABLE.test(i) ? Math.exp((logits[i] - max) / temperature) : 0;
      total += p[i];
    }
    double pick = random.nextDouble() * total;
    for (int i = 0; i < p.length; i++) {
      pick -= p[i];
      if (pick <= 0 && p[i] > 0) {
        return i;
      }
    }
    return 'a';
  }

  /** Frees the tensors and trims the heap; later calls do nothing. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      manager.close();
      DjlEngine.trim();
    }
  }
}
