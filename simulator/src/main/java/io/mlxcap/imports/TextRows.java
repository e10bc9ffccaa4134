package io.mlxcap.imports;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;

/** What the line-based row sources share: the reader, the file's name and the line count. */
abstract class TextRows implements RowSource {
  final String name;
  private final BufferedReader reader;
  private long line;

  TextRows(BufferedReader reader, String name) {
    this.reader = reader;
    this.name = name;
  }

  /** Returns the next line that is not blank, or null at the end; {@link #line()} is its number. */
  final String nextNonBlankLine() {
    try {
      String text;
      do {
        text = reader.readLine();
        line++;
      } while (text != null && text.isBlank());
      return text;
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      throw new io.mlxcap.InvalidInputException(name + " line " + (line + 1) + ": the compressed data is damaged or cut short ("
          + e.getMessage() + ")");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  /** The 1-based number of the line last read. */
  final long line() {
    return line;
  }

  @Override
  public final void close() {
    try {
      reader.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
