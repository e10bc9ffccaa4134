package io.mlxcap.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/** Checks a cache's state holds together, after every test and every step of a property (Guava's checkValidState). */
final class CacheTesting {
  private CacheTesting() {}

  /**
   * Asserts the invariants that can be read from the cache alone: byte accounting exact, the budget
   * held (or over it only while no model is idle: a load larger than its estimate), pins not
   * negative, recency order consistent with use times.
   */
  static void checkValidState(ModelCache cache) {
    List<CachedModel> cached = cache.cached();
    long resident = 0;
    long reserved = 0;
    long previousUse = Long.MIN_VALUE;
    for (CachedModel model : cached) {
      assertTrue(model.pins() >= 0, () -> "negative pins: " + model);
      assertTrue(model.bytes() > 0, () -> "no bytes: " + model);
      assertTrue(model.lastUsedNanos() >= previousUse, () -> "recency order disagrees with use times: " + cached);
      assertTrue(model.idleSinceNanos() >= model.lastUsedNanos(), () -> "idle before its last use: " + model);
      previousUse = model.lastUsedNanos();
      reserved += model.bytes();
      if (!model.loading()) {
        resident += model.bytes();
      }
    }
    assertEquals(resident, cache.residentBytes(), () -> "resident bytes are not the sum of resident models: " + cached);
    long budget = cache.policy().maxBytes();
    long finalReserved = reserved;
    assertTrue(reserved <= budget || cached.stream()
            .noneMatch(m -> m.evictable() && !cache.policy().neverEvicted().contains(m.model())),
        () -> "over the byte budget " + budget + " with idle models left: " + finalReserved + " " + cached);
    assertEquals(cached.size(), cached.stream().map(CachedModel::model).distinct().count(), "a model cached twice");
  }
}
