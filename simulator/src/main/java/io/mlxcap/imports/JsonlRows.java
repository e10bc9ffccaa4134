package io.mlxcap.imports;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.InvalidInputException;
import io.mlxcap.JsonErrors;
import java.io.BufferedReader;

/** Rows of a JSON Lines file: one object a line, its top-level fields by name. */
final class JsonlRows extends TextRows {
  private static final ObjectMapper JSON = new ObjectMapper();

  JsonlRows(BufferedReader reader, String name) {
    super(reader, name);
  }

  @Override
  public void requireField(String field) {
    // Known only row by row: a missing field is reported with its line.
  }

  @Override
  public Row next() {
    String text = nextNonBlankLine();
    if (text == null) {
      return null;
    }
    long line = line();
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(name + " line " + line + ": not valid JSON: " + JsonErrors.reason(e));
    }
    if (!node.isObject()) {
      throw new InvalidInputException(name + " line " + line + ": expected a JSON object");
    }
    long rowLine = line;
    return new Row() {
      @Override
      public long line() {
        return rowLine;
      }

      @Override
      public String get(String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() || value.isContainerNode() ? null : value.asText();
      }
    };
  }
}
