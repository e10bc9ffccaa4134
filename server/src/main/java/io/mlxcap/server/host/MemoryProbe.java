package io.mlxcap.server.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the process's RSS from /proc/self/status and the host's RAM in use from /proc/meminfo. */
public final class MemoryProbe {
  private final Path status;
  private final Path meminfo;

  /** A reading: process RSS, host RAM in use (total − available) and host total, in bytes. */
  public record Reading(long rssBytes, long hostUsedBytes, long hostTotalBytes) {}

  /** The probe of this Linux host. */
  public MemoryProbe() {
    this(Path.of("/proc/self/status"), Path.of("/proc/meminfo"));
  }

  /** A probe reading the two files given (a test points them elsewhere). */
  MemoryProbe(Path status, Path meminfo) {
    this.status = status;
    this.meminfo = meminfo;
  }

  /** Reads now; fields it cannot read are 0. */
  public Reading read() {
    long rss = kib(status, "VmRSS:");
    long total = kib(meminfo, "MemTotal:");
    long available = kib(meminfo, "MemAvailable:");
    return new Reading(rss, Math.max(0, total - available), total);
  }

  /** True when the host's RAM can be read: the memory-pressure rule needs it. */
  public boolean readsHostMemory() {
    return kib(meminfo, "MemTotal:") > 0;
  }

  private static long kib(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).replace("kB", "").strip()) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }
}
