package io.mlxcap.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mlxcap.trace.TraceEvent.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class TraceWriterTest {
  private static final long U = TraceEvent.UNKNOWN;

  @Test
  void durable_everyEventIsInTheFileBeforeWriteReturns(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("live.jsonl");
    TraceWriter writer = TraceWriter.durable(file, TraceHeader.empty());
    for (int i = 0; i < 3; i++) {
      writer.write(new Request(i, "r" + i, "fast", 1, U, U, U));
      // Read it back while the writer is still open, as after a crash.
      try (TraceReader reader = TraceReader.open(file, TraceReader.Mode.STRICT)) {
        assertEquals(i + 1, reader.events().count());
      }
    }
    writer.close();
    writer.close();
    assertThrows(IllegalStateException.class, () -> writer.write(new Request(9, "x", "fast", 1, U, U, U)));
  }

  @Test
  void concurrentWriters_neverInterleaveLines(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("concurrent.jsonl");
    int threads = 8;
    int perThread = 2_000;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (TraceWriter writer = TraceWriter.durable(file, TraceHeader.empty())) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            writer.write(new TraceEvent.Memory(i, thread, i, 1_000_000L + "x".repeat(thread).length()));
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get();
      }
      assertEquals((long) threads * perThread, writer.events());
    } finally {
      pool.shutdownNow();
    }
    Set<String> seen = new HashSet<>();
    try (TraceReader reader = TraceReader.open(file, TraceReader.Mode.STRICT)) {
      List<TraceEvent> events = reader.events().collect(Collectors.toList());
      assertEquals(threads * perThread, events.size());
      for (TraceEvent e : events) {
        TraceEvent.Memory m = (TraceEvent.Memory) e;
        seen.add(m.rssBytes() + "/" + m.hostUsedBytes());
      }
    }
    assertEquals(threads * perThread, seen.size(), "every event arrived once, whole");
    assertEquals(threads * perThread + 1, Files.readAllLines(file).size());
  }
}
