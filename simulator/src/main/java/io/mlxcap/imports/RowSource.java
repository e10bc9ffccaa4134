package io.mlxcap.imports;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** Reads the rows of one input file, one at a time. */
interface RowSource extends AutoCloseable {

  /** Returns the next row, or null at the end. */
  Row next();

  /**
   * Checks that the rows can have {@code field}; a CSV knows its columns from its header, a JSONL file
   * only row by row.
   *
   * @throws io.mlxcap.InvalidInputException naming the file, the field and the fields it has
   */
  void requireField(String field);

  @Override
  void close();

  /** Reads one line, wrapping I/O failures. */
  static String readLine(BufferedReader reader, String name) {
    try {
      return reader.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  /** Closes a reader, wrapping I/O failures. */
  static void close(BufferedReader reader) {
    try {
      reader.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns "a, b, c" for messages. */
  static String list(List<String> names) {
    return String.join(", ", names);
  }
}
