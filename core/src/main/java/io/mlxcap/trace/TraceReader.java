package io.mlxcap.trace;

import io.mlxcap.InvalidInputException;
import io.mlxcap.trace.TraceCodec.BadLine;
import io.mlxcap.trace.TraceEvent.End;
import io.mlxcap.trace.TraceEvent.Request;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Reads a v1 trace as a stream of events, in constant memory.
 *
 * <p>The header (if the first line is one) is read on opening. Blank lines are skipped; lines of an
 * unknown event type and unknown fields are ignored, so newer traces stay readable. A malformed line
 * stops the read with its line number and the reason ({@link Mode#STRICT}) or is skipped and counted
 * ({@link Mode#LENIENT}). Request lines must be in time order. A last line without a newline that
 * cannot be read is what a crash mid-write leaves: it is ignored and reported in both modes.
 */
public final class TraceReader implements AutoCloseable {
  private static final int MAX_EXAMPLES = 5;

  /** What to do with a malformed line. */
  public enum Mode {
    /** Stop with an error naming the line: the default. */
    STRICT,
    /** Skip it, count it and go on. */
    LENIENT
  }

  private final InputStream in;
  private final String name;
  private final Mode mode;
  private final TraceCodec codec = new TraceCodec();
  private final TraceHeader header;

  private byte[] buffer = new byte[1 << 20];
  private int position;
  private int limit;
  private boolean endOfInput;
  private int lineStart;
  private int lineLength;
  private boolean lineTerminated;
  private boolean replayLine;

  private long lines;
  private long events;
  private long skipped;
  private final List<String> examples = new ArrayList<>();
  private long unknownTypes;
  private String tornLastLine;
  private boolean ended;
  private long lastRequestNanos;

  private TraceReader(InputStream in, String name, Mode mode) {
    this.in = in;
    this.name = name;
    this.mode = mode;
    this.header = readHeader();
  }

  /**
   * Opens {@code file}.
   *
   * @throws InvalidInputException if it does not exist or cannot be read, or its header is malformed
   */
  public static TraceReader open(Path file, Mode mode) {
    try {
      return new TraceReader(Files.newInputStream(file), file.toString(), mode);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("trace " + file + " does not exist");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read trace " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads a trace from {@code in}, called {@code name} in messages; closing the reader closes it. */
  public static TraceReader of(InputStream in, String name, Mode mode) {
    return new TraceReader(in, name, mode);
  }

  /** The trace's header, or {@link TraceHeader#empty()} when it has none. */
  public TraceHeader header() {
    return header;
  }

  /** Returns the next event, or null at the end of the trace. */
  public TraceEvent next() {
    while (nextLine()) {
      if (isBlank()) {
        continue;
      }
      try {
        TraceEvent event = codec.decode(buffer, lineStart, lineLength, lines);
        if (event == null) {
          unknownTypes++;
          continue;
        }
        if (event instanceof Request request) {
          if (request.timeNanos() < lastRequestNanos) {
            throw new BadLine("this request (t_ms " + TraceCodec.formatMillis(request.timeNanos())
                + ") is earlier than the one before it (t_ms " + TraceCodec.formatMillis(lastRequestNanos)
                + "); requests must be in time order");
          }
          lastRequestNanos = request.timeNanos();
        } else if (event instanceof End) {
          ended = true;
        }
        events++;
        return event;
      } catch (BadLine e) {
        onBadLine(e.getMessage());
      } catch (IllegalArgumentException e) {
        onBadLine(e.getMessage());
      }
    }
    return null;
  }

  /** The events as a sequential stream; closing the stream closes the reader. */
  public Stream<TraceEvent> events() {
    Spliterator<TraceEvent> spliterator =
        new Spliterators.AbstractSpliterator<>(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL) {
          @Override
          public boolean tryAdvance(Consumer<? super TraceEvent> action) {
            TraceEvent event = next();
            if (event == null) {
              return false;
            }
            action.accept(event);
            return true;
          }
        };
    return StreamSupport.stream(spliterator, false).onClose(this::close);
  }

  /** What the read found so far besides events; complete once {@link #next} has returned null. */
  public ReadReport report() {
    return new ReadReport(lines, events, skipped, examples, unknownTypes, Optional.ofNullable(tornLastLine), ended);
  }

  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private TraceHeader readHeader() {
    while (nextLine()) {
      if (isBlank()) {
        continue;
      }
      if (!TraceCodec.isHeader(buffer, lineStart, lineLength)) {
        replayLine = true;
        return TraceHeader.empty();
      }
      try {
        return TraceCodec.decodeHeader(buffer, lineStart, lineLength);
      } catch (BadLine e) {
        onBadLine(e.getMessage());
        return TraceHeader.empty();
      }
    }
    return TraceHeader.empty();
  }

  private void onBadLine(String reason) {
    if (!lineTerminated) {
      tornLastLine = reason;
      return;
    }
    if (mode == Mode.STRICT) {
      close();
      throw new TraceFormatException(name, lines, reason);
    }
    skipped++;
    if (examples.size() < MAX_EXAMPLES) {
      examples.add("line " + lines + ": " + reason);
    }
  }

  private boolean isBlank() {
    for (int i = lineStart; i < lineStart + lineLength; i++) {
      byte b = buffer[i];
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /** Moves to the next line; false at the end of input. */
  private boolean nextLine() {
    if (replayLine) {
      replayLine = false;
      return true;
    }
    while (true) {
      int i = newline(buffer, position, limit);
      if (i >= 0) {
        setLine(position, i, true);
        position = i + 1;
        return true;
      }
      if (endOfInput) {
        if (position < limit) {
          setLine(position, limit, false);
          position = limit;
          return true;
        }
        return false;
      }
      fill();
    }
  }

  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
  private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;
  private static final long LOW_BITS = 0x0101010101010101L;
  private static final long HIGH_BITS = 0x8080808080808080L;

  /** The index of the first '\n' in {@code bytes[from, to)}, or -1: eight bytes at a time. */
  private static int newline(byte[] bytes, int from, int to) {
    int i = from;
    for (; i + 8 <= to; i += 8) {
      long word = (long) LONGS.get(bytes, i) ^ NEWLINES; // a '\n' byte becomes 0
      long zeros = (word - LOW_BITS) & ~word & HIGH_BITS; // the lowest set bit marks the first zero byte
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private void setLine(int start, int end, boolean terminated) {
    lineStart = start;
    lineLength = end - start;
    if (lineLength > 0 && buffer[end - 1] == '\r') {
      lineLength--;
    }
    lineTerminated = terminated;
    lines++;
  }

  private void fill() {
    if (position > 0) {
      System.arraycopy(buffer, position, buffer, 0, limit - position);
      limit -= position;
      position = 0;
    }
    if (limit == buffer.length) {
      byte[] larger = new byte[buffer.length * 2];
      System.arraycopy(buffer, 0, larger, 0, limit);
      buffer = larger;
    }
    try {
      int read = in.read(buffer, limit, buffer.length - limit);
      if (read < 0) {
        endOfInput = true;
      } else {
        limit += read;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read trace " + name + ": " + e.getMessage(), e);
    }
  }
}
