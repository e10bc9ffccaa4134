package io.mlxcap.imports;

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
}
