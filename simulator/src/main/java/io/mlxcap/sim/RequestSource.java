package io.mlxcap.sim;

import io.mlxcap.InvalidInputException;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceEvent.Request;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Where a simulation's requests come from, in time order: a trace file, streamed, or a trace held in memory. */
public interface RequestSource extends AutoCloseable {

  /** A request as the simulation reads it; one instance is refilled for every request. */
  final class Arrival {
    long timeNanos;
    String model;
    long promptTokens;
    long outputTokens;
    long serviceNanos;
    /** The keep-alive the request asked for (Ollama's keep_alive), or {@link TraceEvent#UNKNOWN}. */
    long keepAliveNanos = TraceEvent.UNKNOWN;
  }

  /** Fills {@code arrival} with the next request; false at the end. */
  boolean next(Arrival arrival);

  @Override
  default void close() {}

  /** The request lines of a trace, read as they are needed: memory does not grow with the trace. */
  static RequestSource of(TraceReader reader) {
    return of(reader, Map.of());
  }

  /**
   * The request lines of a trace, with the service time a recording observed for each request
   * ({@code serviceById}, see {@link #recordedServiceTimes}) where the request line has none.
   */
  static RequestSource of(TraceReader reader, Map<String, Long> serviceById) {
    return new RequestSource() {
      @Override
      public boolean next(Arrival arrival) {
        for (TraceEvent event = reader.next(); event != null; event = reader.next()) {
          if (event instanceof Request r) {
            fill(arrival, r, serviceById);
            return true;
          }
        }
        return false;
      }

      @Override
      public void close() {
        reader.close();
      }
    };
  }

  /** The output a replay serves for {@code r}: what its recording produced, else the most it asked for. */
  static long outputTokens(Request r) {
    return r.outputTokens() != TraceEvent.UNKNOWN ? r.outputTokens() : r.maxTokens();
  }

  /** Fills {@code arrival} from a request line; a service time it lacks comes from {@code serviceById}. */
  private static void fill(Arrival arrival, Request r, Map<String, Long> serviceById) {
    arrival.timeNanos = r.timeNanos();
    arrival.model = r.model();
    arrival.promptTokens = r.promptTokens();
    arrival.outputTokens = outputTokens(r);
    arrival.serviceNanos = r.serviceNanos() != TraceEvent.UNKNOWN
        ? r.serviceNanos()
        : serviceById.isEmpty() ? TraceEvent.UNKNOWN : serviceById.getOrDefault(r.id(), TraceEvent.UNKNOWN);
    arrival.keepAliveNanos = r.keepAliveNanos();
  }

  /**
   * The service times a recorded trace observed, by request id: from its {@code request_done} lines
   * with status ok (a trace the server wrote). Empty for a trace of request lines alone. Holds one
   * entry per served request, so it is for recordings, not for synthetic traces of millions.
   */
  static Map<String, Long> recordedServiceTimes(TraceReader reader) {
    Map<String, Long> times = new HashMap<>();
    for (TraceEvent event = reader.next(); event != null; event = reader.next()) {
      if (event instanceof TraceEvent.RequestDone d && d.status() == TraceEvent.Status.OK
          && d.serviceNanos() != TraceEvent.UNKNOWN) {
        times.put(d.id(), d.serviceNanos());
      }
    }
    return times;
  }

  /**
   * A trace's requests in compact arrays (21 bytes a request), to replay many times without reading
   * the file again: sweeps and the in-memory benchmark.
   */
  final class InMemory {
    private TraceHeader header = TraceHeader.empty();
    private int recordedServiceTimes;
    private String[] models = new String[0];
    private long[] times = new long[1024];
    private short[] modelIndex = new short[1024];
    private int[] prompt = new int[1024];
    private int[] output = new int[1024];
    private long[] service;
    /** Keep-alives, allocated at the first request that asks for one. */
    private long[] keepAlive;
    private int size;

    /** Reads every request of {@code source}. */
    public static InMemory of(RequestSource source) {
      InMemory trace = new InMemory();
      Arrival a = new Arrival();
      while (source.next(a)) {
        trace.add(a);
      }
      return trace;
    }

    /**
     * Reads the requests of {@code trace}, with the service time its recording observed for each (a
     * {@code request_done} with status ok) where the request line has none: one read, parsed on a
     * thread of its own (see {@link ReadAhead}).
     */
    public static InMemory read(Path trace, TraceReader.Mode mode) {
      ReadAhead.Replayed<InMemory> read = ReadAhead.replay(trace, mode, java.util.List.of(InMemory::of));
      InMemory memory = read.results().get(0);
      memory.header = read.header();
      memory.recordedServiceTimes = read.recordedServiceTimes();
      return memory;
    }

    /** The header of the trace read, or an empty one. */
    public TraceHeader header() {
      return header;
    }

    /** How many requests got their service time from a recorded {@code request_done}. */
    public int recordedServiceTimes() {
      return recordedServiceTimes;
    }

    /** Appends one request. */
    public void add(Arrival a) {
      if (size == times.length) {
        int n = size * 2;
        times = Arrays.copyOf(times, n);
        modelIndex = Arrays.copyOf(modelIndex, n);
        prompt = Arrays.copyOf(prompt, n);
        output = Arrays.copyOf(output, n);
        if (service != null) {
          service = Arrays.copyOf(service, n);
        }
        if (keepAlive != null) {
          keepAlive = Arrays.copyOf(keepAlive, n);
        }
      }
      int m = indexOf(a.model);
      times[size] = a.timeNanos;
      modelIndex[size] = (short) m;
      prompt[size] = (int) Math.min(Integer.MAX_VALUE, a.promptTokens);
      output[size] = (int) Math.min(Integer.MAX_VALUE, a.outputTokens);
      if (a.serviceNanos != TraceEvent.UNKNOWN && service == null) {
        service = new long[times.length];
        Arrays.fill(service, 0, size, TraceEvent.UNKNOWN);
      }
      if (service != null) {
        service[size] = a.serviceNanos;
      }
      if (a.keepAliveNanos != TraceEvent.UNKNOWN && keepAlive == null) {
        keepAlive = new long[times.length];
        Arrays.fill(keepAlive, 0, size, TraceEvent.UNKNOWN);
      }
      if (keepAlive != null) {
        keepAlive[size] = a.keepAliveNanos;
      }
      size++;
    }

    private int indexOf(String model) {
      for (int i = 0; i < models.length; i++) {
        if (models[i].equals(model)) {
          return i;
        }
      }
      if (models.length == Short.MAX_VALUE) {
        throw new InvalidInputException("a trace in memory holds at most " + Short.MAX_VALUE + " model names");
      }
      models = Arrays.copyOf(models, models.length + 1);
      models[models.length - 1] = model;
      return models.length - 1;
    }

    /**
     * The same requests without the service times a recording observed: a replay then predicts each
     * service from the model's rates, as it would for traffic that has not happened yet.
     */
    public InMemory withoutServiceTimes() {
      InMemory copy = new InMemory();
      copy.header = header;
      copy.models = models;
      copy.times = times;
      copy.modelIndex = modelIndex;
      copy.prompt = prompt;
      copy.output = output;
      copy.keepAlive = keepAlive;
      copy.size = size;
      return copy;
    }

    /** Requests held. */
    public int size() {
      return size;
    }

    /** A fresh pass over the requests. */
    public RequestSource replay() {
      return new RequestSource() {
        private int next;

        @Override
        public boolean next(Arrival a) {
          if (next == size) {
            return false;
          }
          a.timeNanos = times[next];
          a.model = models[modelIndex[next]];
          a.promptTokens = prompt[next];
          a.outputTokens = output[next];
          a.serviceNanos = service == null ? TraceEvent.UNKNOWN : service[next];
          a.keepAliveNanos = keepAlive == null ? TraceEvent.UNKNOWN : keepAlive[next];
          next++;
          return true;
        }
      };
    }
  }
}
