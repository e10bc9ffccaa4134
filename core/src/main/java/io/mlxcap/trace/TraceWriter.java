package io.mlxcap.trace;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Writes a v1 trace: a header line, then one line per event.
 *
 * <p>Safe for concurrent writers: each event is encoded and written whole under one lock, so lines
 * never interleave. A {@link #durable} writer hands every line to the operating system in a single
 * write before returning, so a crash of the process loses at most the line being written; a
 * {@link #buffered} one is for bulk output (imports, workloads) and writes on close.
 */
public final class TraceWriter implements AutoCloseable {
  private final OutputStream out;
  private final FileOutputStream file;
  private final TraceCodec codec = new TraceCodec();
  private boolean closed;
  private long events;

  private TraceWriter(OutputStream out, FileOutputStream file, TraceHeader header) {
    this.out = out;
    this.file = file;
    try {
      out.write(codec.encode(header));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A writer to a new {@code file} (replacing one there) that puts every event on disk at once: for recorders. */
  public static TraceWriter durable(Path file, TraceHeader header) {
    FileOutputStream stream = openFile(file);
    return new TraceWriter(stream, stream, header);
  }

  /** A writer to a new {@code file} (replacing one there) that buffers: for bulk output. */
  public static TraceWriter buffered(Path file, TraceHeader header) {
    FileOutputStream stream = openFile(file);
    return new TraceWriter(new BufferedOutputStream(stream, 1 << 20), stream, header);
  }

  /** A buffered writer to a stream the caller owns; closing the writer flushes but does not close it. */
  public static TraceWriter to(OutputStream stream, TraceHeader header) {
    return new TraceWriter(new BufferedOutputStream(Objects.requireNonNull(stream), 1 << 16), null, header);
  }

  private static FileOutputStream openFile(Path file) {
    try {
      return new FileOutputStream(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write trace " + file + ": " + e.getMessage(), e);
    }
  }

  /** Appends {@code event} as one line. */
  public synchronized void write(TraceEvent event) {
    Objects.requireNonNull(event, "event");
    if (closed) {
      throw new IllegalStateException("the trace writer is closed");
    }
    try {
      out.write(codec.encode(event));
      events++;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns how many events were written. */
  public synchronized long events() {
    return events;
  }

  /** Flushes what is buffered, syncs a file to disk and closes it; later calls do nothing. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.flush();
      if (file != null) {
        file.getFD().sync();
        file.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
