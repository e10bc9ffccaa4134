package io.mlxcap.sim;

/**
 * The simulator's future events: a binary heap over (time, kind, sequence) with a payload, in
 * primitive arrays so that a run allocates nothing per event. The sequence number makes the order of
 * events at the same time and of the same kind the order they were scheduled: deterministic.
 */
final class EventQueue {
  private long[] times = new long[64];
  private int[] kinds = new int[64];
  private long[] sequences = new long[64];
  private long[] payloads = new long[64];
  private int size;
  private long nextSequence;

  // The event taken by the last poll().
  private long time;
  private int kind;
  private long payload;

  void add(long at, int eventKind, long eventPayload) {
    if (size == times.length) {
      grow();
    }
    int i = size++;
    long seq = nextSequence++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!before(at, eventKind, seq, parent)) {
        break;
      }
      move(parent, i);
      i = parent;
    }
    set(i, at, eventKind, seq, eventPayload);
  }

  /** Takes the earliest event; read it with {@link #time()}, {@link #kind()}, {@link #payload()}. False when empty. */
  boolean poll() {
    if (size == 0) {
      return false;
    }
    time = times[0];
    kind = kinds[0];
    payload = payloads[0];
    size--;
    if (size > 0) {
      long t = times[size];
      int k = kinds[size];
      long s = sequences[size];
      long p = payloads[size];
      int i = 0;
      while (true) {
        int child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && before(times[child + 1], kinds[child + 1], sequences[child + 1], child)) {
          child++;
        }
        if (!before(times[child], kinds[child], sequences[child], t, k, s)) {
          break;
        }
        move(child, i);
        i = child;
      }
      set(i, t, k, s, p);
    }
    return true;
  }

  /** The time of the earliest event; only when {@link #size()} is above 0. */
  long peekTime() {
    return times[0];
  }

  long time() {
    return time;
  }

  int kind() {
    return kind;
  }

  long payload() {
    return payload;
  }

  int size() {
    return size;
  }

  /** True when (t, k, s) comes before the event at {@code index}. */
  private boolean before(long t, int k, long s, int index) {
    return before(t, k, s, times[index], kinds[index], sequences[index]);
  }

  private static boolean before(long t, int k, long s, long t2, int k2, long s2) {
    if (t != t2) {
      return t < t2;
    }
    if (k != k2) {
      return k < k2;
    }
    return s < s2;
  }

  private void move(int from, int to) {
    set(to, times[from], kinds[from], sequences[from], payloads[from]);
  }

  private void set(int i, long t, int k, long s, long p) {
    times[i] = t;
    kinds[i] = k;
    sequences[i] = s;
    payloads[i] = p;
  }

  private void grow() {
    int n = times.length * 2;
    times = java.util.Arrays.copyOf(times, n);
    kinds = java.util.Arrays.copyOf(kinds, n);
    sequences = java.util.Arrays.copyOf(sequences, n);
    payloads = java.util.Arrays.copyOf(payloads, n);
  }
}
