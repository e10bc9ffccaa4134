package io.mlxcap.inspect;

import io.mlxcap.model.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Small model files in the published formats, written the way their specifications lay them out. */
final class ModelFiles {
  private ModelFiles() {}

  /** A safetensors file of {@code tensors}, data zero-filled. */
  static Path safetensors(Path file, Safetensors.Layout... tensors) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    long data = 0;
    for (Safetensors.Layout t : tensors) {
      long n = 1;
      for (long d : t.shape()) {
        n *= d;
      }
      data += n * Safetensors.dtypeBytes(t.dtype());
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(Safetensors.header(List.of(tensors), Map.of()));
      out.write(new byte[(int) data]);
    }
    return file;
  }

  /** A GGUF writer: metadata first, then tensor infos, then aligned zero data. */
  static final class Gguf {
    private final ByteArrayOutputStream meta = new ByteArrayOutputStream();
    private final ByteArrayOutputStream infos = new ByteArrayOutputStream();
    private int kvCount;
    private int tensorCount;
    private long dataOffset;
    private final int version;

    Gguf(int version) {
      this.version = version;
    }

    private static byte[] le(long v, int bytes) {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
      byte[] out = new byte[bytes];
      System.arraycopy(b.array(), 0, out, 0, bytes);
      return out;
    }

    private static void string(ByteArrayOutputStream out, String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(le(bytes.length, 8));
      out.writeBytes(bytes);
    }

    Gguf string(String key, String value) {
      string(meta, key);
      meta.writeBytes(le(8, 4));
      string(meta, value);
      kvCount++;
      return this;
    }

    Gguf u32(String key, long value) {
      string(meta, key);
      meta.writeBytes(le(4, 4));
      meta.writeBytes(le(value, 4));
      kvCount++;
      return this;
    }

    Gguf f32(String key, float value) {
      string(meta, key);
      meta.writeBytes(le(6, 4));
      meta.writeBytes(le(Float.floatToIntBits(value), 4));
      kvCount++;
      return this;
    }

    /** An array of {@code count} strings, like a tokenizer's vocabulary. */
    Gguf strings(String key, int count) {
      string(meta, key);
      meta.writeBytes(le(9, 4));
      meta.writeBytes(le(8, 4));
      meta.writeBytes(le(count, 8));
      for (int i = 0; i < count; i++) {
        string(meta, "tok" + i);
      }
      kvCount++;
      return this;
    }

    /** A tensor of GGML type {@code type} whose data takes {@code bytes}, at the next 32-byte boundary. */
    Gguf tensor(String name, int type, long bytes, long... dims) {
      string(infos, name);
      infos.writeBytes(le(dims.length, 4));
      for (long d : dims) {
        infos.writeBytes(le(d, 8));
      }
      infos.writeBytes(le(type, 4));
      infos.writeBytes(le(dataOffset, 8));
      dataOffset = (dataOffset + bytes + 31) / 32 * 32;
      tensorCount++;
      return this;
    }

    Path write(Path file, long dropFromEnd) throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
      out.writeBytes(le(version, 4));
      out.writeBytes(le(tensorCount, 8));
      out.writeBytes(le(kvCount, 8));
      out.writeBytes(meta.toByteArray());
      out.writeBytes(infos.toByteArray());
      while (out.size() % 32 != 0) {
        out.write(0);
      }
      out.writeBytes(new byte[(int) dataOffset]);
      byte[] all = out.toByteArray();
      Files.write(file, java.util.Arrays.copyOf(all, (int) (all.length - dropFromEnd)));
      return file;
    }
  }
}
