package io.mlxcap.inspect;

import io.mlxcap.InvalidInputException;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a GGUF file (llama.cpp's format, and Ollama's model blobs), versions 2 and 3: the
 * metadata key-value pairs and the tensor infos, read without touching the tensor data.
 *
 * <p>Layout, little-endian: "GGUF", version (u32), tensor count (u64), metadata count (u64); each
 * metadata pair a string key (u64 length + bytes), a value type (u32) and the value (arrays: element
 * type u32, count u64, elements); each tensor a string name, dimension count (u32), dimensions (u64
 * each), GGML type (u32) and offset (u64) from the start of the data, which begins at the next
 * multiple of {@code general.alignment} (default 32) after the infos.
 *
 * @param metadata scalar values by key (numbers as Long or Double, booleans, strings); arrays of
 *     numbers as {@code long[]}, other arrays as their length only
 */
record Gguf(Path file, int version, Map<String, Object> metadata, List<Tensor> tensors, long dataStart, long fileSize,
    long bytesRead) {

  /** One tensor: its name, dimensions, GGML type, and its bytes in the file. */
  record Tensor(String name, long[] dims, GgmlType type, long offset, long bytes) {
    long elements() {
      long n = 1;
      for (long d : dims) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }
  }

  /** The architecture named by {@code general.architecture}, e.g. llama, qwen2, phi3. */
  String architecture() {
    Object arch = metadata.get("general.architecture");
    return arch instanceof String s ? s : "";
  }

  long weightBytes() {
    return tensors.stream().mapToLong(Tensor::bytes).sum();
  }

  static Gguf read(Path file) {
    try (HeaderReader in = new HeaderReader(file)) {
      long size = in.size();
      if (size < 24) {
        throw bad(file, "is " + size + " bytes long, too short for a GGUF header");
      }
      if (in.u8() != 'G' || in.u8() != 'G' || in.u8() != 'U' || in.u8() != 'F') {
        throw bad(file, "does not start with GGUF: it is not a GGUF file");
      }
      int version = in.i32();
      if (version != 2 && version != 3) {
        throw bad(file, "is GGUF version " + Integer.toUnsignedString(version) + "; mlxcap reads versions 2 and 3");
      }
      long tensorCount = in.i64();
      long kvCount = in.i64();
      if (tensorCount < 0 || kvCount < 0 || tensorCount > size || kvCount > size) {
        throw bad(file, "claims " + tensorCount + " tensors and " + kvCount + " metadata pairs: the header is damaged");
      }
      Map<String, Object> metadata = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = in.string(in.i64());
        metadata.put(key, value(in, file, key, (int) in.u32(), 0));
      }
      List<long[]> dims = new ArrayList<>();
      List<String> names = new ArrayList<>();
      List<Integer> types = new ArrayList<>();
      List<Long> offsets = new ArrayList<>();
      for (long i = 0; i < tensorCount; i++) {
        names.add(in.string(in.i64()));
        long n = in.u32();
        if (n > 8) {
          throw bad(file, "has tensor " + names.get(names.size() - 1) + " with " + n + " dimensions: the header is damaged");
        }
        long[] d = new long[(int) n];
        for (int k = 0; k < n; k++) {
          d[k] = in.i64();
        }
        dims.add(d);
        types.add((int) in.u32());
        offsets.add(in.i64());
      }
      long alignment = metadata.get("general.alignment") instanceof Long a && a > 0 ? a : 32;
      long dataStart = (in.position() + alignment - 1) / alignment * alignment;
      List<Tensor> tensors = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        int typeId = types.get(i);
        GgmlType type = GgmlType.byId(typeId).orElseThrow(() -> bad(file, "has tensor " + name
            + " of GGML type " + typeId + ", which mlxcap cannot size"));
        long elements = 1;
        for (long d : dims.get(i)) {
          elements = Math.multiplyExact(elements, d);
        }
        long bytes = type.bytes(elements);
        if (dataStart + offsets.get(i) + bytes > size) {
          throw bad(file, "has tensor " + name + " ending at byte " + (dataStart + offsets.get(i) + bytes)
              + ", past the end of the file at " + size + " (is it cut short?)");
        }
        tensors.add(new Tensor(name, dims.get(i), type, offsets.get(i), bytes));
      }
      return new Gguf(file, version, metadata, List.copyOf(tensors), dataStart, size, in.bytesRead());
    } catch (NoSuchFileException e) {
      throw new InvalidInputException(file + " does not exist");
    } catch (EOFException e) {
      throw bad(file, "ends inside its header (is it cut short?)");
    } catch (ArithmeticException e) {
      throw bad(file, "has a tensor too large to count: the header is damaged");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads a value of {@code type}; arrays of numbers are kept, other arrays skipped (only their length kept). */
  private static Object value(HeaderReader in, Path file, String key, int type, int depth) throws IOException {
    switch (type) {
      case 0, 1, 7 -> {
        int v = in.u8();
        return type == 1 ? (long) (byte) v : type == 7 ? (Object) (v != 0) : (long) v;
      }
      case 2, 3 -> {
        int lo = in.u8();
        int hi = in.u8();
        int v = lo | hi << 8;
        return type == 3 ? (long) (short) v : (long) v;
      }
      case 4 -> {
        return in.u32();
      }
      case 5 -> {
        return (long) in.i32();
      }
      case 6 -> {
        return (double) in.f32();
      }
      case 8 -> {
        return in.string(in.i64());
      }
      case 9 -> {
        int elementType = (int) in.u32();
        long count = in.i64();
        if (count < 0 || depth > 4) {
          throw bad(file, "has a damaged array under " + key);
        }
        boolean numbers = elementType <= 6 || elementType >= 10 && elementType <= 12;
        if (numbers && count <= 4096) {
          long[] values = new long[(int) count];
          for (int i = 0; i < count; i++) {
            Object v = value(in, file, key, elementType, depth + 1);
            values[i] = v instanceof Long l ? l : Math.round((Double) v);
          }
          return values;
        }
        int width = switch (elementType) {
          case 0, 1, 7 -> 1;
          case 2, 3 -> 2;
          case 4, 5, 6 -> 4;
          case 10, 11, 12 -> 8;
          default -> -1;
        };
        if (width > 0) {
          in.skip(Math.multiplyExact(count, width));
        } else {
          for (long i = 0; i < count; i++) {
            if (elementType == 8) {
              in.skip(in.i64());
            } else {
              value(in, file, key, elementType, depth + 1);
            }
          }
        }
        return count;
      }
      case 10, 11 -> {
        return in.i64();
      }
      case 12 -> {
        return in.f64();
      }
      default -> throw bad(file, "has metadata " + key + " of value type " + type + ", which GGUF does not define");
    }
  }

  private static InvalidInputException bad(Path file, String what) {
    return new InvalidInputException(file + " " + what);
  }
}
