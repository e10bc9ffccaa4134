package io.mlxcap.server.host;

import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceWriter;
import java.nio.file.Path;

/** The server's v1 trace: every event durable on disk as it happens; times relative to the server's start. */
final class TraceRecorder implements AutoCloseable {
  private final TraceWriter writer;
  private final long startNanos;

  private TraceRecorder(TraceWriter writer, long startNanos) {
    this.writer = writer;
    this.startNanos = startNanos;
  }

  /** A recorder to {@code file}, or one that records nothing when {@code file} is null. */
  static TraceRecorder open(Path file, TraceHeader header, long startNanos) {
    return new TraceRecorder(file == null ? null : TraceWriter.durable(file, header), startNanos);
  }

  private long t(long now) {
    return Math.max(0, now - startNanos);
  }

  private void write(TraceEvent event) {
    if (writer != null) {
      writer.write(event);
    }
  }

  void request(long now, String id, String model, long promptTokens, long maxTokens, long keepAliveNanos) {
    write(new TraceEvent.Request(t(now), id, model, promptTokens, maxTokens, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
        keepAliveNanos));
  }

  void done(long now, String id, TraceEvent.Status status, long queueNanos, long loadWaitNanos, long serviceNanos,
      long outputTokens, String error) {
    write(new TraceEvent.RequestDone(t(now), id, status, queueNanos, loadWaitNanos, serviceNanos, outputTokens, error));
  }

  void loadStart(long now, String model, LoadCause cause, long expectedBytes) {
    write(new TraceEvent.LoadStart(t(now), model, cause, expectedBytes));
  }

  void load(long now, String model, LoadCause cause, long bytes, long durationNanos) {
    write(new TraceEvent.Load(t(now), model, cause, bytes, durationNanos));
  }

  void loadFailed(long now, String model, LoadCause cause, long durationNanos, String error) {
    write(new TraceEvent.LoadFailed(t(now), model, cause, durationNanos, error));
  }

  void evict(long now, String model, long bytes, EvictionReason reason) {
    write(new TraceEvent.Evict(t(now), model, bytes, reason));
  }

  void memory(long now, MemoryProbe.Reading reading) {
    write(new TraceEvent.Memory(t(now), reading.rssBytes(), reading.hostUsedBytes(), reading.hostTotalBytes()));
  }

  @Override
  public void close() {
    if (writer != null) {
      writer.close();
    }
  }

  void tick(long now) {
    write(new TraceEvent.Tick(t(now)));
  }

  void end(long now) {
    write(new TraceEvent.End(t(now)));
    close();
  }
}
