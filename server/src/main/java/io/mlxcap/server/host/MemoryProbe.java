package io.mlxcap.server.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the process's RSS from /proc/self/status and the host's RAM in use from /proc/meminfo. */
public final class MemoryProbe {

  /** A reading: process RSS, host RAM in use (total − available) and host total, in bytes. */
  public record Reading(long rssBytes, long hostUsedBytes, long hostTotalBytes) {}

  /** Reads now; fields it cannot read are 0. */
  public Reading read() {
    long rss = kib(Path.of("/proc/self/status"), "VmRSS:");
    long total = kib(Path.of("/proc/meminfo"), "MemTotal:");
    long available = kib(Path.of("/proc/meminfo"), "MemAvailable:");
    return new Reading(rss, Math.max(0, total - available), total);
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
