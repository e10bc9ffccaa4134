package io.mlxcap.lifecycle;

/**
 * The request lifecycle both shells share, before the cache: arrival, a FIFO queue, one of
 * {@code MLX_MAX_CONCURRENT_REQUESTS} workers. Pure and deterministic, like the cache core.
 *
 * <p>A request that arrives while a worker is free starts at once; otherwise it waits in arrival
 * order, and when {@code MLX_MAX_QUEUE} requests already wait it is refused (the server answers 503).
 * Not thread-safe: the server holds its lock around it.
 */
public final class Dispatcher {
  /** What happens to an arriving request. */
  public enum Admission {
    /** A worker took it: acquire its model now. */
    START,
    /** It waits for a worker. */
    QUEUED,
    /** The queue is full: refuse it. */
    REJECTED
  }

  /** What {@link #finished} returns when nobody waits. */
  public static final long NONE = -1;

  private final int workers;
  private final int maxQueue;
  /** The waiting requests, a ring that grows with use (never sized by a bound of 2^31 - 1). */
  private long[] queue;
  private int head;
  private int size;
  private int busy;

  /** A dispatcher with {@code workers} workers and room for {@code maxQueue} waiting requests. */
  public Dispatcher(int workers, int maxQueue) {
    if (workers < 1 || maxQueue < 0) {
      throw new IllegalArgumentException("need workers >= 1 and maxQueue >= 0, were " + workers + ", " + maxQueue);
    }
    this.workers = workers;
    this.maxQueue = maxQueue;
    this.queue = new long[Math.max(1, Math.min(maxQueue, 16))];
  }

  /** Request {@code id} arrived. */
  public Admission arrive(long id) {
    if (busy < workers) {
      busy++;
      return Admission.START;
    }
    if (size == maxQueue) {
      return Admission.REJECTED;
    }
    if (size == queue.length) {
      grow();
    }
    queue[(head + size) % queue.length] = id;
    size++;
    return Admission.QUEUED;
  }

  /**
   * A worker finished its request; returns the id of the queued request it takes next (which starts
   * now), or {@link #NONE}.
   */
  public long finished() {
    if (busy == 0) {
      throw new IllegalStateException("no worker is busy");
    }
    if (size == 0) {
      busy--;
      return NONE;
    }
    long next = queue[head];
    head = (head + 1) % queue.length;
    size--;
    return next;
  }

  /** Removes {@code id} from the queue (its client went away); false if it was not queued. */
  public boolean cancel(long id) {
    for (int i = 0; i < size; i++) {
      if (queue[(head + i) % queue.length] == id) {
        for (int j = i; j < size - 1; j++) {
          queue[(head + j) % queue.length] = queue[(head + j + 1) % queue.length];
        }
        size--;
        return true;
      }
    }
    return false;
  }

  private void grow() {
    long[] grown = new long[(int) Math.min((long) queue.length * 2, Math.max(maxQueue, 1))];
    for (int i = 0; i < size; i++) {
      grown[i] = queue[(head + i) % queue.length];
    }
    queue = grown;
    head = 0;
  }

  /** Workers serving a request. */
  public int busy() {
    return busy;
  }

  /** Requests waiting for a worker. */
  public int queued() {
    return size;
  }
}
