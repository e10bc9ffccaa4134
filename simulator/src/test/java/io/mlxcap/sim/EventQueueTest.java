package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class EventQueueTest {
  record E(long time, int kind, long seq, long payload) {}

  @Test
  void pollsInTimeKindSequenceOrder_againstASortedList() {
    Random random = new Random(7);
    EventQueue queue = new EventQueue();
    List<E> expected = new ArrayList<>();
    long seq = 0;
    List<E> got = new ArrayList<>();
    for (int round = 0; round < 2_000; round++) {
      int adds = random.nextInt(4);
      for (int i = 0; i < adds; i++) {
        long t = random.nextInt(50);
        int k = random.nextInt(4);
        queue.add(t, k, seq);
        expected.add(new E(t, k, seq, seq));
        seq++;
      }
      if (random.nextBoolean() && queue.poll()) {
        got.add(new E(queue.time(), queue.kind(), queue.payload(), queue.payload()));
        expected.sort(Comparator.comparingLong(E::time).thenComparingInt(E::kind).thenComparingLong(E::seq));
        assertEquals(expected.remove(0), got.get(got.size() - 1));
      }
    }
    expected.sort(Comparator.comparingLong(E::time).thenComparingInt(E::kind).thenComparingLong(E::seq));
    for (E e : expected) {
      queue.poll();
      assertEquals(e, new E(queue.time(), queue.kind(), queue.payload(), queue.payload()));
    }
    assertFalse(queue.poll());
  }
}
