package io.mlxcap.report;

import io.mlxcap.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a command's files into a folder all at once: into a temporary folder beside it first, then
 * swapped in, so a failure leaves the folder as it was, never half-written. A folder that holds
 * anything but an earlier run's files is refused rather than replaced.
 */
public final class OutputFolder {
  private OutputFolder() {}

  /**
   * Replaces {@code dir} with exactly {@code files}; {@code marker} is a file name every earlier run
   * wrote, so a folder holding it may be replaced.
   */
  public static List<Path> replace(Path dir, Map<String, byte[]> files, String marker) {
    Path target = dir.toAbsolutePath().normalize();
    if (Files.exists(target) && (!Files.isDirectory(target) || !isEmpty(target) && !Files.exists(target.resolve(marker)))) {
      throw new InvalidInputException("-o " + dir + " exists and is not an earlier mlxcap output (no " + marker
          + " in it); choose another folder or remove it");
    }
    Path parent = target.getParent();
    Path temp = null;
    try {
      Files.createDirectories(parent);
      temp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        Files.write(temp.resolve(f.getKey()), f.getValue());
      }
      if (Files.exists(target)) {
        Path old = Files.createTempDirectory(parent, "." + target.getFileName() + ".old-");
        Files.delete(old);
        move(target, old);
        move(temp, target);
        deleteFlat(old);
      } else {
        move(temp, target);
      }
      temp = null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    } finally {
      if (temp != null) {
        try {
          deleteFlat(temp);
        } catch (IOException ignored) {
          // the failure above is what the user needs to hear
        }
      }
    }
    List<Path> written = new ArrayList<>();
    files.keySet().forEach(name -> written.add(dir.resolve(name)));
    return written;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static boolean isEmpty(Path dir) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void deleteFlat(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }
}
