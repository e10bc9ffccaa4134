package io.mlxcap.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a host profile's load spread turns into the load times of one replay, worked by hand. */
final class LoadClockTest {
  private static final long S = 1_000_000_000L;

  /** Loads at 1 GB/s and no overhead: model a (1 GB) takes 1 s on the line, b (2 GB) 2 s. */
  private static HostProfile.LoadClock clock(LoadSpread spread) {
    HostProfile host = new HostProfile(128L << 30, 8L << 30, S, 1e9, Duration.ZERO, 0, 0, spread, 0);
    return host.loadClock(new String[] {"a", "b"}, new long[] {S, 2 * S});
  }

  // The warm-up goes to the process's first loads in order, whatever their model; after it the
  // process's n-th load is (its model's line + offset) x (1 + the n-th deviation), the deviations
  // taken in the scrambled order (3 of them: stride 2, so indices 0, 2, 1, 0, ... of the sorted list).
  @Test
  void warmUpFirst_thenTheModelsUsualTimeTimesTheNextDeviation() {
    HostProfile.LoadClock clock = clock(new LoadSpread(List.of(0.5, 0.25), List.of(0.2, -0.1, 0.0), Map.of("b", 0.1)));
    assertEquals(2_500_000_000L, clock.next(1), "warm-up 1: b's line + 0.5 s, no offset");
    assertEquals(1_250_000_000L, clock.next(0), "warm-up 2: a's line + 0.25 s");
    assertEquals(900_000_000L, clock.next(0), "a: 1 s - 10 %");
    assertEquals(2_520_000_000L, clock.next(1), "b: (2 s + its 0.1 s offset) + 20 %");
    assertEquals(1_000_000_000L, clock.next(0), "a: on its line");
    assertEquals(1_890_000_000L, clock.next(1), "b: (2 s + 0.1 s) - 10 %, the next round");
    assertEquals(1_200_000_000L, clock.next(0), "a: 1 s + 20 %");
  }

  // Whatever the number of deviations, the loads take each one once in every round of as many.
  @Test
  void eachRound_takesEveryDeviationOnce() {
    for (int size = 1; size <= 40; size++) {
      List<Double> relative = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        relative.add(i / 100.0);
      }
      HostProfile.LoadClock clock = clock(new LoadSpread(List.of(), relative, Map.of()));
      for (int round = 0; round < 2; round++) {
        boolean[] seen = new boolean[size];
        for (int i = 0; i < size; i++) {
          long nanos = clock.next(0);
          int deviation = (int) Math.round((nanos - S) / (S / 100.0));
          assertEquals(false, seen[deviation], "size " + size + ": deviation " + deviation + " twice in one round");
          seen[deviation] = true;
        }
      }
    }
  }

  // A model with deviations of its own takes them (by the same process count); the others take the pool.
  @Test
  void aModelsOwnDeviations_replaceThePoolForIt() {
    HostProfile.LoadClock clock = clock(new LoadSpread(List.of(), List.of(0.5), Map.of(), Map.of("b", List.of(0.1, -0.1))));
    assertEquals(1_500_000_000L, clock.next(0), "a: the pool, + 50 %");
    assertEquals(2_200_000_000L, clock.next(1), "b: its own (sorted -10 %, +10 %), load 2 of the process: stride 1, index 1: + 10 %");
    assertEquals(1_800_000_000L, clock.next(1), "b: its own, load 3: index 0: - 10 %");
    assertEquals(1_500_000_000L, clock.next(0));
  }

  @Test
  void noSpread_everyLoadTakesTheLine() {
    HostProfile.LoadClock clock = clock(LoadSpread.NONE);
    for (int i = 0; i < 5; i++) {
      assertEquals(S, clock.next(0));
      assertEquals(2 * S, clock.next(1));
    }
  }
}
