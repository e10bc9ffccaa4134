package io.mlxcap.trace;

import java.nio.file.Path;

/** A process that records events and says how many after each, until it is killed: for {@link TraceCrashTest}. */
final class CrashingRecorder {
  private CrashingRecorder() {}

  public static void main(String[] args) throws Exception {
    TraceWriter writer = TraceWriter.durable(Path.of(args[0]), TraceHeader.empty());
    for (long i = 0; ; i++) {
      writer.write(new TraceEvent.Request(i, "r" + i, "fast", i, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
          TraceEvent.UNKNOWN));
      System.out.println("written " + (i + 1));
      System.out.flush();
      if (i >= 100) {
        Thread.sleep(1);
      }
    }
  }
}
