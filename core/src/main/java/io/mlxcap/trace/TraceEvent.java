package io.mlxcap.trace;

import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import java.util.Objects;

/**
 * One line of a v1 trace after the header: a request arrival (the input) or an observed outcome.
 *
 * <p>Times are nanoseconds since the trace started ({@code t_ms} on disk). A count or duration not
 * known is {@link #UNKNOWN}. The on-disk form of every event is in {@code traces/README.md}.
 */
public sealed interface TraceEvent {

  /** The value of a count or duration that the trace does not give. */
  long UNKNOWN = -1;

  /** A request's keep-alive that never expires; written {@code "keep_alive_ms":-1}. */
  long KEEP_ALIVE_FOREVER = Long.MAX_VALUE;

  /** Nanoseconds since the trace started. */
  long timeNanos();

  /**
   * A request arrived, asking {@code model} (a name or alias as the client wrote it). The input the
   * simulator replays; a trace of these alone is enough to simulate.
   *
   * @param maxTokens output tokens asked for, or {@link #UNKNOWN}
   * @param outputTokens output tokens produced, or {@link #UNKNOWN}
   * @param serviceNanos how long serving it took once it had its model, when known beforehand (an
   *     imported latency), or {@link #UNKNOWN}
   * @param keepAliveNanos how long the client asked its model to stay once idle (Ollama's
   *     {@code keep_alive}): 0 to unload it at once, {@link #KEEP_ALIVE_FOREVER}, or {@link #UNKNOWN}
   *     when it did not ask (the idle TTL applies)
   */
  record Request(long timeNanos, String id, String model, long promptTokens, long maxTokens,
      long outputTokens, long serviceNanos, long keepAliveNanos) implements TraceEvent {

    /** A request that asks for no keep-alive. */
    public Request(long timeNanos, String id, String model, long promptTokens, long maxTokens, long outputTokens,
        long serviceNanos) {
      this(timeNanos, id, model, promptTokens, maxTokens, outputTokens, serviceNanos, UNKNOWN);
    }

    public Request {
      if (keepAliveNanos < 0 && keepAliveNanos != UNKNOWN) {
        throw new IllegalArgumentException("keep_alive_ms must be >= 0 or -1 (forever), was " + keepAliveNanos + " ns");
      }
      requireTime(timeNanos);
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(model, "model");
      requireCount(promptTokens, "prompt_tokens");
      requireCount(maxTokens, "max_tokens");
      requireCount(outputTokens, "output_tokens");
      requireCount(serviceNanos, "service_ms");
    }
  }

  /** How a request ended. */
  enum Status {
    /** Served. */
    OK,
    /** Failed while being served or because its model failed to load. */
    ERROR,
    /** Refused without being served: queue full, model too large. */
    REJECTED,
    /** Its client went away first. */
    CANCELLED
  }

  /**
   * The outcome of request {@code id}: how long it waited for a worker, for its model's load, and
   * was served.
   */
  record RequestDone(long timeNanos, String id, Status status, long queueNanos, long loadWaitNanos,
      long serviceNanos, long outputTokens, String error) implements TraceEvent {
    public RequestDone {
      requireTime(timeNanos);
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(status, "status");
      requireCount(queueNanos, "queue_ms");
      requireCount(loadWaitNanos, "load_wait_ms");
      requireCount(serviceNanos, "service_ms");
      requireCount(outputTokens, "output_tokens");
    }
  }

  /** A load of {@code model} started, expected to take {@code expectedBytes}. */
  record LoadStart(long timeNanos, String model, LoadCause cause, long expectedBytes) implements TraceEvent {
    public LoadStart {
      requireTime(timeNanos);
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(cause, "cause");
      requireCount(expectedBytes, "expected_bytes");
    }
  }

  /** A load of {@code model} finished at {@code timeNanos}, taking {@code durationNanos}; it holds {@code bytes}. */
  record Load(long timeNanos, String model, LoadCause cause, long bytes, long durationNanos) implements TraceEvent {
    public Load {
      requireTime(timeNanos);
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(cause, "cause");
      requireCount(bytes, "bytes");
      requireCount(durationNanos, "duration_ms");
    }
  }

  /** A load of {@code model} failed after {@code durationNanos}. */
  record LoadFailed(long timeNanos, String model, LoadCause cause, long durationNanos, String error)
      implements TraceEvent {
    public LoadFailed {
      requireTime(timeNanos);
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(cause, "cause");
      requireCount(durationNanos, "duration_ms");
    }
  }

  /** {@code model}, holding {@code bytes}, was unloaded for {@code reason}. */
  record Evict(long timeNanos, String model, long bytes, EvictionReason reason) implements TraceEvent {
    public Evict {
      requireTime(timeNanos);
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(reason, "reason");
      requireCount(bytes, "bytes");
    }
  }

  /** A memory sample: the server's RSS and the host's RAM in use of its total. */
  record Memory(long timeNanos, long rssBytes, long hostUsedBytes, long hostTotalBytes) implements TraceEvent {
    public Memory {
      requireTime(timeNanos);
      requireCount(rssBytes, "rss_bytes");
      requireCount(hostUsedBytes, "host_used_bytes");
      requireCount(hostTotalBytes, "host_total_bytes");
    }
  }

  /**
   * The server ran its cleanup tick (MLX_CACHE_CLEANUP_INTERVAL_SEC) at this time: a replay with
   * recorded timing ticks when the server did, not on the ideal schedule, which a busy server meets late.
   */
  record Tick(long timeNanos) implements TraceEvent {
    public Tick {
      requireTime(timeNanos);
    }
  }

  /** The recorder closed the trace cleanly; a trace without it ended in a crash or is still being written. */
  record End(long timeNanos) implements TraceEvent {
    public End {
      requireTime(timeNanos);
    }
  }

  private static void requireTime(long timeNanos) {
    if (timeNanos < 0) {
      throw new IllegalArgumentException("t_ms must be >= 0, was " + timeNanos / 1e6);
    }
  }

  private static void requireCount(long value, String field) {
    if (value < 0 && value != UNKNOWN) {
      throw new IllegalArgumentException(field + " must be >= 0, was " + value);
    }
  }
}
