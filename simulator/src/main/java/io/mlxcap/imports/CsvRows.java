package io.mlxcap.imports;

import io.mlxcap.InvalidInputException;
import java.io.BufferedReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rows of a CSV file whose first line names the columns. Fields may be quoted with {@code "}, a
 * doubled quote standing for one; a quoted field may not span lines.
 */
final class CsvRows extends TextRows {
  private final List<String> columns;
  private final Map<String, Integer> index = new HashMap<>();

  CsvRows(BufferedReader reader, String name) {
    super(reader, name);
    String header = nextNonBlankLine();
    if (header == null) {
      throw new InvalidInputException(name + " is empty; a CSV trace starts with a line naming its columns");
    }
    this.columns = split(header.startsWith("\uFEFF") ? header.substring(1) : header, line());
    for (int i = 0; i < columns.size(); i++) {
      index.put(columns.get(i).strip(), i);
    }
  }

  @Override
  public void requireField(String field) {
    if (!index.containsKey(field)) {
      throw new InvalidInputException(name + " has no column '" + field + "'; its columns are " + String.join(", ", columns));
    }
  }

  @Override
  public Row next() {
    String text = nextNonBlankLine();
    if (text == null) {
      return null;
    }
    long rowLine = line();
    List<String> values = split(text, rowLine);
    return new Row() {
      @Override
      public long line() {
        return rowLine;
      }

      @Override
      public String get(String field) {
        Integer i = index.get(field);
        if (i == null || i >= values.size()) {
          return null;
        }
        String value = values.get(i).strip();
        return value.isEmpty() ? null : value;
      }
    };
  }

  private List<String> split(String text, long lineNumber) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    if (quoted) {
      throw new InvalidInputException(name + " line " + lineNumber + ": a quoted field is not closed");
    }
    fields.add(field.toString());
    return fields;
  }
}
