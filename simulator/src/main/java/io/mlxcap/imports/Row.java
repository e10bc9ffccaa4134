package io.mlxcap.imports;

/** One row of an input trace, its fields by name, and where it came from for messages. */
interface Row {

  /** The 1-based line of the row in its file. */
  long line();

  /** The value of {@code field}, or null when the row has no such field or it is empty/null. */
  String get(String field);
}
