package io.mlxcap.sim;

/**
 * Generations sharing the host's cores ({@link ServiceContention}): with {@code n} in service each
 * advances at {@code speed(n)} of its solo speed. Because every shared generation advances at the
 * same speed, their order of completion is fixed when they start; only when the next one ends moves
 * as {@code n} changes. So this keeps a virtual clock (solo nanoseconds done by each generation since
 * the start) and the shared generations by the virtual time they end at, and the simulator schedules
 * one event, for the first of them, again whenever {@code n} changes (the earlier event, stale, is
 * skipped by its version). Generations of fixed length (a recorded service time, which holds its
 * contention already) count in {@code n} but are not slowed.
 */
final class ProcessorSharing {
  /** What {@link #nextDue} returns when no shared generation is in service. */
  static final long NONE = Long.MIN_VALUE;

  private final ServiceContention contention;
  private double virtual;
  private long at;
  private int running;
  private int version;

  private int[] slots = new int[16];
  private double[] ends = new double[16];
  private long[] sequence = new long[16];
  private int size;
  private long nextSequence;

  ProcessorSharing(ServiceContention contention) {
    this.contention = contention;
  }

  private void advance(long now) {
    virtual += (now - at) * contention.speed(running);
    at = now;
  }

  /** Slot {@code slot} starts a shared generation of {@code workNanos} solo nanoseconds at {@code now}. */
  void startShared(int slot, long workNanos, long now) {
    advance(now);
    running++;
    version++;
    push(slot, virtual + workNanos);
  }

  /** A generation of fixed length starts: it slows the shared ones. */
  void startFixed(long now) {
    advance(now);
    running++;
    version++;
  }

  /** A generation, shared or fixed, ended at {@code now}. */
  void finished(long now) {
    advance(now);
    running--;
    version++;
  }

  /** The version of the current schedule: an event scheduled under another is stale. */
  int version() {
    return version;
  }

  /** When the first shared generation ends if nothing changes, or {@link #NONE}. */
  long nextDue() {
    if (size == 0) {
      return NONE;
    }
    double left = Math.max(0, ends[0] - virtual);
    return at + (long) Math.ceil(left / contention.speed(running));
  }

  /** Takes the first shared generation off (it is due) and returns its slot. */
  int takeFirst() {
    int slot = slots[0];
    size--;
    if (size > 0) {
      int s = slots[size];
      double e = ends[size];
      long q = sequence[size];
      int i = 0;
      while (true) {
        int child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && before(ends[child + 1], sequence[child + 1], ends[child], sequence[child])) {
          child++;
        }
        if (!before(ends[child], sequence[child], e, q)) {
          break;
        }
        set(i, slots[child], ends[child], sequence[child]);
        i = child;
      }
      set(i, s, e, q);
    }
    return slot;
  }

  private void push(int slot, double end) {
    if (size == slots.length) {
      slots = java.util.Arrays.copyOf(slots, size * 2);
      ends = java.util.Arrays.copyOf(ends, size * 2);
      sequence = java.util.Arrays.copyOf(sequence, size * 2);
    }
    long q = nextSequence++;
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!before(end, q, ends[parent], sequence[parent])) {
        break;
      }
      set(i, slots[parent], ends[parent], sequence[parent]);
      i = parent;
    }
    set(i, slot, end, q);
  }

  private void set(int i, int slot, double end, long q) {
    slots[i] = slot;
    ends[i] = end;
    sequence[i] = q;
  }

  private static boolean before(double e1, long q1, double e2, long q2) {
    return e1 < e2 || (e1 == e2 && q1 < q2);
  }
}
