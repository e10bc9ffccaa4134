package io.mlxcap.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Maps for JSON output that keep the order they were written in. {@code Map.of} iterates in an
 * order that changes from one JVM run to the next, which would make "same inputs, same bytes" false.
 */
public final class Ordered {
  private Ordered() {}

  /** A map of {@code keysAndValues} (key, value, key, value, ...) in that order. */
  public static Map<String, Object> map(Object... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("keys and values come in pairs");
    }
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }
}
