package io.mlxcap.sim;

import java.util.Arrays;

/**
 * Names to small indexes, for lookups a replay makes millions of times: open addressing on the
 * String's cached hash, the same instance matched before {@code equals} is tried. Absent is -1.
 */
final class NameIndex {
  private String[] keys = new String[16];
  private int[] values = new int[16];
  private int size;

  /** The index of {@code name}, or -1. */
  int get(String name) {
    int mask = keys.length - 1;
    for (int i = spread(name.hashCode()) & mask; ; i = (i + 1) & mask) {
      String k = keys[i];
      if (k == name) {
        return values[i];
      }
      if (k == null) {
        return -1;
      }
      if (k.equals(name)) {
        return values[i];
      }
    }
  }

  /** Maps {@code name} to {@code index}, replacing what it mapped to. */
  void put(String name, int index) {
    if ((size + 1) * 2 > keys.length) {
      String[] oldKeys = keys;
      int[] oldValues = values;
      keys = new String[oldKeys.length * 2];
      values = new int[oldKeys.length * 2];
      size = 0;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != null) {
          put(oldKeys[i], oldValues[i]);
        }
      }
    }
    int mask = keys.length - 1;
    int i = spread(name.hashCode()) & mask;
    while (keys[i] != null && !keys[i].equals(name)) {
      i = (i + 1) & mask;
    }
    if (keys[i] == null) {
      size++;
    }
    keys[i] = name;
    values[i] = index;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }

  @Override
  public String toString() {
    return Arrays.toString(keys);
  }
}
