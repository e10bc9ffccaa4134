package io.mlxcap.inspect;

import io.mlxcap.InvalidInputException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Little-endian reads from the start of a file through a 64 KB window, skipping by seeking rather
 * than reading, and counting every byte fetched: header parsers prove they read the header only.
 */
final class HeaderReader implements AutoCloseable {
  private static final int WINDOW = 1 << 16;

  private final Path file;
  private final FileChannel channel;
  private final ByteBuffer buffer = ByteBuffer.allocate(WINDOW).order(ByteOrder.LITTLE_ENDIAN);
  private long bufferStart;
  private long bytesRead;

  HeaderReader(Path file) throws IOException {
    this.file = file;
    this.channel = FileChannel.open(file, StandardOpenOption.READ);
    buffer.limit(0);
  }

  long size() throws IOException {
    return channel.size();
  }

  /** Where the next read starts. */
  long position() {
    return bufferStart + buffer.position();
  }

  long bytesRead() {
    return bytesRead;
  }

  private void need(int n) throws IOException {
    if (buffer.remaining() >= n) {
      return;
    }
    long at = position();
    buffer.compact();
    bufferStart = at - buffer.position();
    while (buffer.position() < n) {
      int read = channel.read(buffer, bufferStart + buffer.position());
      if (read < 0) {
        buffer.flip();
        throw new EOFException();
      }
      bytesRead += read;
    }
    buffer.flip();
  }

  int u8() throws IOException {
    need(1);
    return buffer.get() & 0xff;
  }

  int i32() throws IOException {
    need(4);
    return buffer.getInt();
  }

  long u32() throws IOException {
    return i32() & 0xffffffffL;
  }

  long i64() throws IOException {
    need(8);
    return buffer.getLong();
  }

  float f32() throws IOException {
    need(4);
    return buffer.getFloat();
  }

  double f64() throws IOException {
    need(8);
    return buffer.getDouble();
  }

  /** {@code n} bytes as UTF-8; refuses a length the file cannot hold. */
  String string(long n) throws IOException {
    if (n < 0 || n > size() - position() || n > (64L << 20)) {
      throw new InvalidInputException(file + " has a string of " + n + " bytes at byte " + position()
          + ", past the end of the file or its header (is the header damaged?)");
    }
    if (n > WINDOW / 2) {
      byte[] out = new byte[(int) n];
      for (int i = 0; i < n; i++) {
        out[i] = (byte) u8();
      }
      return new String(out, StandardCharsets.UTF_8);
    }
    need((int) n);
    byte[] out = new byte[(int) n];
    buffer.get(out);
    return new String(out, StandardCharsets.UTF_8);
  }

  /** Moves past {@code n} bytes without reading them when they lie beyond the window. */
  void skip(long n) throws IOException {
    if (n < 0 || n > size() - position()) {
      throw new InvalidInputException(file + " has a field of " + n + " bytes at byte " + position()
          + ", past the end of the file (is it cut short?)");
    }
    if (n <= buffer.remaining()) {
      buffer.position(buffer.position() + (int) n);
      return;
    }
    bufferStart = position() + n;
    buffer.clear().limit(0);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
