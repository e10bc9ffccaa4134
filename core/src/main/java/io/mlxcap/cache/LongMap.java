package io.mlxcap.cache;

import java.util.Arrays;

/** A map from long keys to values with open addressing: no boxing on the request path. */
final class LongMap<V> {
  private static final long FREE = Long.MIN_VALUE;

  private long[] keys = new long[16];
  private Object[] values = new Object[16];
  private int size;

  LongMap() {
    Arrays.fill(keys, FREE);
  }

  int size() {
    return size;
  }

  boolean containsKey(long key) {
    return values[slot(key)] != null;
  }

  @SuppressWarnings("unchecked")
  V get(long key) {
    return (V) values[slot(key)];
  }

  void put(long key, V value) {
    if (key == FREE || value == null) {
      throw new IllegalArgumentException("unsupported key or null value");
    }
    if ((size + 1) * 2 > keys.length) {
      resize();
    }
    int i = slot(key);
    if (values[i] == null) {
      size++;
    }
    keys[i] = key;
    values[i] = value;
  }

  @SuppressWarnings("unchecked")
  V remove(long key) {
    int i = slot(key);
    V old = (V) values[i];
    if (old == null) {
      return null;
    }
    keys[i] = FREE;
    values[i] = null;
    size--;
    // Re-place the entries after the hole that may have probed past it.
    int mask = keys.length - 1;
    for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
      long k = keys[j];
      Object v = values[j];
      keys[j] = FREE;
      values[j] = null;
      int to = slot(k);
      keys[to] = k;
      values[to] = v;
    }
    return old;
  }

  /** The index holding {@code key}, or the free index where it would go. */
  private int slot(long key) {
    int mask = keys.length - 1;
    int i = (int) (mix(key) & mask);
    while (values[i] != null && keys[i] != key) {
      i = (i + 1) & mask;
    }
    return i;
  }

  private static long mix(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return h ^ (h >>> 32);
  }

  private void resize() {
    long[] oldKeys = keys;
    Object[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new Object[oldValues.length * 2];
    Arrays.fill(keys, FREE);
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != null) {
        int to = slot(oldKeys[i]);
        keys[to] = oldKeys[i];
        values[to] = oldValues[i];
        size++;
      }
    }
  }
}
