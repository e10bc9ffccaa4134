package io.mlxcap.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class LongMapTest {

  @Test
  void agreesWithHashMap_underRandomPutsAndRemovesOfCollidingKeys() {
    Random random = new Random(3);
    LongMap<String> map = new LongMap<>();
    Map<Long, String> reference = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      long key = random.nextInt(300) * 16L - 100; // multiples of 16 crowd few slots
      switch (random.nextInt(3)) {
        case 0 -> {
          map.put(key, "v" + step);
          reference.put(key, "v" + step);
        }
        case 1 -> assertEquals(reference.remove(key), map.remove(key), "remove " + key);
        default -> assertEquals(reference.get(key), map.get(key), "get " + key);
      }
      assertEquals(reference.size(), map.size());
    }
    for (Map.Entry<Long, String> e : reference.entrySet()) {
      assertEquals(e.getValue(), map.get(e.getKey()));
    }
  }
}
