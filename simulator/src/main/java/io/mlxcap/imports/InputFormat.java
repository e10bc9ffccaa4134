package io.mlxcap.imports;

import io.mlxcap.InvalidInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.zip.GZIPInputStream;

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

  /** Opens {@code file} in this format; a name ending in {@code .gz} is read through gzip. */
  RowSource open(Path file) {
    try {
      InputStream in = Files.newInputStream(file);
      if (file.getFileName().toString().endsWith(".gz")) {
        in = new GZIPInputStream(in, 1 << 16);
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
      return factory.apply(reader, file.getFileName().toString());
    } catch (java.util.zip.ZipException e) {
      throw new InvalidInputException("input " + file + " ends in .gz but is not gzip data: " + e.getMessage());
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("input " + file + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
