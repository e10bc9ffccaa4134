package io.mlxcap.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a safetensors file: an 8-byte little-endian length N, then N bytes of JSON naming each
 * tensor's {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header),
 * then the data. Reading it touches the first 8 + N bytes only.
 *
 * @param file the file read
 * @param tensors the tensors in file order (by their first byte)
 * @param metadata the {@code __metadata__} strings, if any
 * @param dataStart where the data section begins: 8 + N
 * @param headerBytesRead how many bytes of the file were read
 */
public record Safetensors(Path file, List<Tensor> tensors, Map<String, String> metadata, long dataStart,
    long headerBytesRead) {

  /** A header larger than this is refused: real ones are kilobytes to a few megabytes. */
  static final long MAX_HEADER = 100L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Bytes per element of each dtype the format defines; packed 4-bit types are not in the format. */
  private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
      Map.entry("F64", 8), Map.entry("F32", 4), Map.entry("F16", 2), Map.entry("BF16", 2),
      Map.entry("I64", 8), Map.entry("I32", 4), Map.entry("I16", 2), Map.entry("I8", 1),
      Map.entry("U64", 8), Map.entry("U32", 4), Map.entry("U16", 2), Map.entry("U8", 1),
      Map.entry("BOOL", 1), Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1));

  /** One tensor: name, dtype, shape and its bytes [begin, end) in the data section. */
  public record Tensor(String name, String dtype, long[] shape, long begin, long end) {
    /** Elements: the product of the shape (1 for a scalar). */
    public long elements() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    /** Bytes in the file. */
    public long bytes() {
      return end - begin;
    }
  }

  /** The bytes of every tensor: the weights as they lie on disk. */
  public long tensorBytes() {
    return tensors.stream().mapToLong(Tensor::bytes).sum();
  }

  /** Bytes per element of {@code dtype}, or -1 when the format does not define it. */
  public static int dtypeBytes(String dtype) {
    return DTYPE_BYTES.getOrDefault(dtype, -1);
  }

  /**
   * Reads the header of {@code file}.
   *
   * @throws InvalidInputException one sentence naming the file and what is wrong: too short, a header
   *     length past the end, JSON that is not a header, a dtype the format does not define, a shape
   *     that does not match the bytes, data past the end of the file
   */
  public static Safetensors read(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < 8) {
        throw bad(file, "is " + size + " bytes long, too short for a safetensors header");
      }
      ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, length, 0);
      long n = length.flip().getLong();
      if (n <= 0 || n > size - 8) {
        throw bad(file, "says its header is " + n + " bytes, but the file holds " + (size - 8) + " after the length");
      }
      if (n > MAX_HEADER) {
        throw bad(file, "says its header is " + n + " bytes, more than the " + MAX_HEADER + " mlxcap reads");
      }
      ByteBuffer header = ByteBuffer.allocate((int) n);
      readFully(channel, header, 8);
      JsonNode root;
      try {
        root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw bad(file, "has a header that is not JSON");
      }
      if (root == null || !root.isObject()) {
        throw bad(file, "has a header that is not a JSON object");
      }
      long dataBytes = size - 8 - n;
      List<Tensor> tensors = new ArrayList<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        tensors.add(tensor(file, e.getKey(), e.getValue(), dataBytes));
      }
      tensors.sort(Comparator.comparingLong(Tensor::begin).thenComparing(Tensor::name));
      return new Safetensors(file, List.copyOf(tensors), Map.copyOf(metadata), 8 + n, 8 + n);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException(file + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static Tensor tensor(Path file, String name, JsonNode node, long dataBytes) {
    String dtype = node.path("dtype").asText("");
    int width = dtypeBytes(dtype);
    if (width < 0) {
      throw bad(file, "has tensor " + name + " of dtype '" + dtype + "', which safetensors does not define");
    }
    JsonNode shapeNode = node.get("shape");
    JsonNode offsets = node.get("data_offsets");
    if (shapeNode == null || !shapeNode.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw bad(file, "has tensor " + name + " without a shape and two data_offsets");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong(-1);
      if (shape[i] < 0) {
        throw bad(file, "has tensor " + name + " with a negative or non-numeric dimension");
      }
    }
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > dataBytes) {
      throw bad(file, "has tensor " + name + " at bytes " + begin + ".." + end + ", past the " + dataBytes
          + " bytes of data the file holds (is it cut short?)");
    }
    Tensor t = new Tensor(name, dtype, shape, begin, end);
    if (t.elements() * width != t.bytes()) {
      throw bad(file, "has tensor " + name + " of shape " + java.util.Arrays.toString(shape) + " " + dtype + " in "
          + t.bytes() + " bytes; that shape needs " + t.elements() * width);
    }
    return t;
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int read = channel.read(buffer, at);
      if (read < 0) {
        throw new IOException("the file ended early");
      }
      at += read;
    }
  }

  private static InvalidInputException bad(Path file, String what) {
    return new InvalidInputException(file + " " + what);
  }

  /** A tensor to write: its name, dtype and shape. */
  public record Layout(String name, String dtype, long... shape) {}

  /**
   * Returns the bytes a safetensors file starts with for {@code tensors}, laid out in this order with
   * no gaps: the length, then the JSON header padded with spaces to a multiple of 8 bytes.
   */
  public static byte[] header(List<Layout> tensors, Map<String, String> metadata) {
    com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      com.fasterxml.jackson.databind.node.ObjectNode meta = root.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Layout t : tensors) {
      String dtype = t.dtype();
      long[] shape = t.shape();
      long elements = 1;
      for (long d : shape) {
        elements *= d;
      }
      long bytes = elements * dtypeBytes(dtype);
      com.fasterxml.jackson.databind.node.ObjectNode node = root.putObject(t.name());
      node.put("dtype", dtype);
      com.fasterxml.jackson.databind.node.ArrayNode s = node.putArray("shape");
      for (long d : shape) {
        s.add(d);
      }
      node.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded);
    out.put(json);
    while (out.hasRemaining()) {
      out.put((byte) ' ');
    }
    return out.array();
  }
}
