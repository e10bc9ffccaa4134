package io.mlxcap.lifecycle;

import static io.mlxcap.lifecycle.Dispatcher.Admission.QUEUED;
import static io.mlxcap.lifecycle.Dispatcher.Admission.REJECTED;
import static io.mlxcap.lifecycle.Dispatcher.Admission.START;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class DispatcherTest {

  @Test
  void oneWorker_fifo_queueLimit() {
    Dispatcher d = new Dispatcher(1, 2);
    assertEquals(START, d.arrive(1));
    assertEquals(QUEUED, d.arrive(2));
    assertEquals(QUEUED, d.arrive(3));
    assertEquals(REJECTED, d.arrive(4), "two already wait");
    assertEquals(2, d.finished());
    assertEquals(QUEUED, d.arrive(5));
    assertEquals(3, d.finished());
    assertEquals(5, d.finished());
    assertEquals(Dispatcher.NONE, d.finished());
    assertEquals(0, d.busy());
    assertThrows(IllegalStateException.class, d::finished);
  }

  @Test
  void severalWorkers_startAtOnce() {
    Dispatcher d = new Dispatcher(3, 0);
    assertEquals(START, d.arrive(1));
    assertEquals(START, d.arrive(2));
    assertEquals(START, d.arrive(3));
    assertEquals(REJECTED, d.arrive(4), "no queue at all");
    assertEquals(3, d.busy());
    assertEquals(Dispatcher.NONE, d.finished());
    assertEquals(START, d.arrive(5));
  }

  @Test
  void cancel_removesAQueuedRequest_keepingOrder() {
    Dispatcher d = new Dispatcher(1, 4);
    d.arrive(1);
    for (long id = 2; id <= 5; id++) {
      d.arrive(id);
    }
    assertTrue(d.cancel(3));
    assertFalse(d.cancel(3));
    assertFalse(d.cancel(1), "running, not queued");
    assertEquals(2, d.finished());
    assertEquals(4, d.finished());
    assertEquals(5, d.finished());
    assertEquals(0, d.queued());
  }

  // Size by use: a bound of 2^31 - 1 must not allocate it, and the ring keeps FIFO order as it grows.
  @Test
  void hugeQueueBound_growsWithUse_inOrder() {
    Dispatcher d = new Dispatcher(1, Integer.MAX_VALUE);
    assertEquals(Dispatcher.Admission.START, d.arrive(0));
    for (long id = 1; id <= 1000; id++) {
      assertEquals(Dispatcher.Admission.QUEUED, d.arrive(id));
      if (id % 3 == 0) {
        d.finished(); // take one off the head while the ring fills, so it wraps before it grows
      }
    }
    List<Long> order = new ArrayList<>();
    for (long next = d.finished(); next != Dispatcher.NONE; next = d.finished()) {
      order.add(next);
    }
    assertEquals(1000 - 333, order.size());
    for (int i = 1; i < order.size(); i++) {
      assertEquals(order.get(i - 1) + 1, order.get(i));
    }
    assertEquals(1000L, order.get(order.size() - 1));
  }
}
