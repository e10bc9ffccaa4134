package io.mlxcap.sim;

import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceEvent.Request;
import io.mlxcap.trace.TraceEvent.RequestDone;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.function.Function;

/**
 * A trace's requests read once, on a thread of their own, for one or more passes at a time: the file
 * is parsed on one core while a simulation runs on another, and the low, expected and high passes of
 * a prediction share one read.
 *
 * <h2>How requests travel</h2>
 * The reading thread parses lines into blocks of {@value #BLOCK} requests in compact arrays and hands
 * each finished block to every pass; a pass that falls {@value #QUEUED} blocks behind makes the reading
 * thread wait. Memory is bounded by the blocks held back (below) and queued, whatever the trace's length.
 *
 * <h2>Recorded service times, in the same read</h2>
 * A recording's {@code request_done} line follows its request within the time the request spent in the
 * server, so a block is held back until {@value #WINDOW} more requests have been read: an outcome that
 * comes within that window gives its request the service time it took. An outcome that comes later
 * than that, for a request already handed on without one, means the window was too short for this
 * trace: the passes stop with {@link OutcomeBeyondWindow}, and {@link #replay} runs them again over two
 * reads, the first collecting every recorded service time by id. Either way the passes see what a
 * full join by id gives them. (A trace of request lines alone never needs the second read.)
 */
public final class ReadAhead implements AutoCloseable {
  static final int BLOCK = 4096;
  static final int WINDOW = 1 << 16;
  static final int QUEUED = 8;

  /** A pass's result, with what the read found besides the requests. */
  public record Replayed<T>(TraceHeader header, List<T> results, int recordedServiceTimes) {}

  /** An outcome came more than {@link #WINDOW} requests after its request: read again, joining by id. */
  static final class OutcomeBeyondWindow extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OutcomeBeyondWindow() {
      super("an outcome came too long after its request for a one-read join", null, false, false);
    }
  }

  /** Requests in compact arrays; the last block of a read holds none and says how the read ended. */
  private static final class Block {
    final long[] time;
    final String[] model;
    final long[] prompt;
    final long[] output;
    final long[] service;
    final long[] keepAlive;
    /** Ids of requests still waiting for a recorded service time; null otherwise. */
    final String[] id;
    int size;
    /**
     * Whether any request of the block has a service time, or a keep-alive: a pass reads those arrays
     * only then (a synthetic trace has neither, and every array a pass reads is one more stream of
     * memory the other core wrote).
     */
    boolean anyService;
    boolean anyKeepAlive;
    final boolean last;
    final Throwable error;
    /** Passes that have not finished with this block yet; the last one hands it back for reuse. */
    final java.util.concurrent.atomic.AtomicInteger readers = new java.util.concurrent.atomic.AtomicInteger();

    Block(int capacity) {
      time = new long[capacity];
      model = new String[capacity];
      prompt = new long[capacity];
      output = new long[capacity];
      service = new long[capacity];
      keepAlive = new long[capacity];
      id = new String[capacity];
      last = false;
      error = null;
    }

    /** The end of the read: nothing more ({@code error} null) or what stopped it. */
    Block(Throwable error) {
      time = null;
      model = null;
      prompt = null;
      output = null;
      service = null;
      keepAlive = null;
      id = null;
      last = true;
      this.error = error;
    }
  }

  private static final Block CLOSED = new Block(new CancellationException("the read was closed"));

  private final TraceReader reader;
  /** Every recorded service time by id (the second read), or null for the one-read join. */
  private final Map<String, Long> serviceById;
  private final List<BlockingQueue<Block>> queues = new ArrayList<>();
  /** Blocks every pass has finished with, for the reading thread to fill again (they are the bulk of what a read allocates). */
  private final java.util.concurrent.ConcurrentLinkedQueue<Block> free = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  // The reading thread's state.
  private final ArrayDeque<Block> held = new ArrayDeque<>();
  private int heldRequests;
  /** The sequence number of the first request of the oldest held block. */
  private long heldBase;
  /** Held requests without a service time, by id: made at the first outcome line, null until then. */
  private Map<String, Long> waiting;
  /** Whether a request without a service time was handed on: an outcome for it now comes too late. */
  private boolean handedOnUnserved;
  private volatile int recordedServiceTimes;

  private ReadAhead(Path trace, TraceReader.Mode mode, int passes, Map<String, Long> serviceById) {
    this.reader = TraceReader.open(trace, mode);
    this.serviceById = serviceById;
    for (int i = 0; i < passes; i++) {
      queues.add(new ArrayBlockingQueue<>(QUEUED));
    }
    thread = new Thread(this::readAll, "mlxcap-trace-reader");
    thread.setDaemon(true);
  }

  /**
   * Runs each of {@code passes} over the requests of {@code trace}, all from one read, each on a thread
   * of its own (the caller's for the first), and returns their results in order. The first failure of
   * any pass (a bad line in the trace, a model the table lacks) stops the others and is thrown.
   *
   * @throws io.mlxcap.InvalidInputException if the trace cannot be opened or its header is malformed
   */
  public static <T> Replayed<T> replay(Path trace, TraceReader.Mode mode, List<Function<RequestSource, T>> passes) {
    try {
      return replay(trace, mode, passes, null);
    } catch (OutcomeBeyondWindow late) {
      Map<String, Long> recorded;
      try (TraceReader first = TraceReader.open(trace, mode)) {
        recorded = RequestSource.recordedServiceTimes(first);
      }
      return replay(trace, mode, passes, recorded);
    }
  }

  private static <T> Replayed<T> replay(Path trace, TraceReader.Mode mode, List<Function<RequestSource, T>> passes,
      Map<String, Long> serviceById) {
    try (ReadAhead read = new ReadAhead(trace, mode, passes.size(), serviceById)) {
      read.thread.start();
      List<T> results = new ArrayList<>(passes.size());
      Throwable[] failure = new Throwable[passes.size()];
      List<Thread> others = new ArrayList<>();
      @SuppressWarnings("unchecked")
      T[] slots = (T[]) new Object[passes.size()];
      for (int i = 1; i < passes.size(); i++) {
        int pass = i;
        Thread t = new Thread(() -> slots[pass] = read.run(pass, passes.get(pass), failure), "mlxcap-pass-" + pass);
        t.setDaemon(true);
        others.add(t);
        t.start();
      }
      slots[0] = read.run(0, passes.get(0), failure);
      for (Thread t : others) {
        try {
          t.join();
        } catch (InterruptedException e) {
          read.close();
          Thread.currentThread().interrupt();
          throw new CancellationException("interrupted while the passes ran");
        }
      }
      Throwable first = null;
      for (Throwable f : failure) {
        // A pass stopped because another failed is not the news: the failure that stopped it is.
        if (f != null && (first == null || first instanceof CancellationException)) {
          first = f;
        }
      }
      if (first instanceof RuntimeException e) {
        throw e;
      }
      if (first instanceof Error e) {
        throw e;
      }
      for (T slot : slots) {
        results.add(slot);
      }
      return new Replayed<>(read.reader.header(), results, read.recordedServiceTimes);
    }
  }

  /** Runs one pass on the calling thread; a failure (an Error too) is kept in {@code failure} and stops the read. */
  private <T> T run(int pass, Function<RequestSource, T> body, Throwable[] failure) {
    try {
      return body.apply(source(queues.get(pass)));
    } catch (RuntimeException | Error e) {
      failure[pass] = e;
      close();
      return null;
    }
  }

  /** A pass over the blocks as they arrive in {@code queue}. */
  private RequestSource source(BlockingQueue<Block> queue) {
    return new RequestSource() {
      private Block block;
      private int next;
      private boolean ended;

      @Override
      public boolean next(Arrival a) {
        while (block == null || next == block.size) {
          if (ended) {
            return false;
          }
          if (block != null && block.readers.decrementAndGet() == 0) {
            free.offer(block);
          }
          try {
            block = queue.take();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for the trace");
          }
          next = 0;
          if (block.last) {
            ended = true;
            if (block.error instanceof RuntimeException e) {
              throw e;
            }
            if (block.error instanceof Error e) {
              throw e;
            }
          }
        }
        Block b = block;
        int i = next++;
        a.timeNanos = b.time[i];
        a.model = b.model[i];
        a.promptTokens = b.prompt[i];
        a.outputTokens = b.output[i];
        a.serviceNanos = b.anyService ? b.service[i] : TraceEvent.UNKNOWN;
        a.keepAliveNanos = b.anyKeepAlive ? b.keepAlive[i] : TraceEvent.UNKNOWN;
        return true;
      }
    };
  }

  // ---- the reading thread ----

  private void readAll() {
    Throwable error = null;
    try {
      for (TraceEvent event = reader.next(); event != null && !closed; event = reader.next()) {
        if (event instanceof Request r) {
          add(r);
        } else if (event instanceof RequestDone d && serviceById == null && d.status() == TraceEvent.Status.OK
            && d.serviceNanos() != TraceEvent.UNKNOWN) {
          join(d);
        }
      }
      while (!held.isEmpty() && !closed) {
        handOn(held.removeFirst());
      }
    } catch (RuntimeException | Error e) {
      error = e; // every pass throws it: none is left waiting for blocks that will not come
    } catch (InterruptedException e) {
      return; // closed
    } finally {
      reader.close();
    }
    try {
      publish(new Block(error));
    } catch (InterruptedException e) {
      // closed
    }
  }

  private void add(Request r) throws InterruptedException {
    Block b = held.peekLast();
    if (b == null || b.size == BLOCK) {
      b = free.poll();
      if (b == null) {
        b = new Block(BLOCK);
      }
      b.size = 0;
      b.anyService = false;
      b.anyKeepAlive = false;
      held.addLast(b);
    }
    int i = b.size++;
    heldRequests++;
    b.time[i] = r.timeNanos();
    b.model[i] = r.model();
    b.prompt[i] = r.promptTokens();
    b.output[i] = RequestSource.outputTokens(r);
    b.keepAlive[i] = r.keepAliveNanos();
    b.anyKeepAlive |= r.keepAliveNanos() != TraceEvent.UNKNOWN;
    long service = r.serviceNanos();
    if (service == TraceEvent.UNKNOWN && serviceById != null) {
      Long recorded = serviceById.get(r.id());
      if (recorded != null) {
        service = recorded;
        recordedServiceTimes++;
      }
    }
    b.service[i] = service;
    b.anyService |= service != TraceEvent.UNKNOWN;
    b.id[i] = null;
    if (service == TraceEvent.UNKNOWN && serviceById == null) {
      b.id[i] = r.id();
      if (waiting != null) {
        waiting.put(r.id(), heldBase + heldRequests - 1);
      }
    }
    // The oldest block goes on once WINDOW requests have been read after its last one.
    while (heldRequests - held.peekFirst().size >= WINDOW) {
      handOn(held.removeFirst());
    }
  }

  private void join(RequestDone d) {
    if (waiting == null) {
      waiting = new HashMap<>();
      long sequence = heldBase;
      for (Block b : held) {
        for (int i = 0; i < b.size; i++, sequence++) {
          if (b.id[i] != null) {
            waiting.put(b.id[i], sequence);
          }
        }
      }
    }
    Long sequence = waiting.remove(d.id());
    if (sequence == null) {
      if (handedOnUnserved) {
        throw new OutcomeBeyondWindow();
      }
      return; // an outcome of no request in the trace, or of one that had its own service time
    }
    long offset = sequence - heldBase;
    int blockIndex = (int) (offset / BLOCK);
    Block b = blockIndex == 0 ? held.peekFirst() : nth(blockIndex);
    int i = (int) (offset % BLOCK);
    b.service[i] = d.serviceNanos();
    b.anyService = true;
    b.id[i] = null;
    recordedServiceTimes++;
  }

  private Block nth(int index) {
    int k = 0;
    for (Block b : held) {
      if (k++ == index) {
        return b;
      }
    }
    throw new IllegalStateException("no held block " + index);
  }

  private void handOn(Block b) throws InterruptedException {
    heldRequests -= b.size;
    heldBase += b.size;
    for (int i = 0; i < b.size; i++) {
      if (b.id[i] != null) {
        handedOnUnserved = true;
        if (waiting != null) {
          waiting.remove(b.id[i]);
        }
      }
    }
    publish(b);
  }

  private void publish(Block b) throws InterruptedException {
    b.readers.set(queues.size());
    for (BlockingQueue<Block> queue : queues) {
      queue.put(b);
    }
  }

  /** Stops the read; passes still running end with a {@link CancellationException}. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    thread.interrupt();
    for (BlockingQueue<Block> queue : queues) {
      queue.clear();
      queue.offer(CLOSED);
    }
  }
}
