package io.mlxcap.imports;

import io.mlxcap.InvalidInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.BiFunction;

/** The file formats an importer reads. */
public enum InputFormat {
  /** Comma-separated, the first line naming the columns. */
  CSV(CsvRows::new),
  /** JSON Lines, one object a row. */
  JSONL(JsonlRows::new);

  private final BiFunction<BufferedReader, String, RowSource> factory;

  InputFormat(BiFunction<BufferedReader, String, RowSource> factory) {
    this.factory = factory;
  }

  /** Opens {@code file} in this format. */
  RowSource open(Path file) {
    try {
      return factory.apply(Files.newBufferedReader(file, StandardCharsets.UTF_8), file.getFileName().toString());
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("input " + file + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
