package io.mlxcap.sim;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads under pure count-LRU for every cap at once, in one pass over the trace, from LRU stack
 * distances (Mattson et al., 1970).
 *
 * <p>Exact — equal to a full simulation at each cap — when the cache core acts as pure count-LRU: one
 * worker, no request refused by the queue, idle TTL, pressure rule and byte budget off, and no
 * periodic cleanup while a preload surplus exists (cleanup off, or a cap at least the preload count).
 *
 * <p>Why: with one worker, recency is the order of requests (the core's recency ignores load times),
 * and an LRU cache of c models holds the c most recent, so a request misses exactly when its model's
 * depth in the recency stack is beyond c. Preload puts its models on the stack first; while requests
 * ask only for preloaded models, every cap hits (a surplus past the cap stays until the next load);
 * the first other request is a new model, a miss for every cap, and after it the cache is the top c
 * of the stack again.
 */
public final class LruCurve {
  /** The result: {@code loads[c]} is the loads at cap c, for c from 1 to {@link #maxCap()}. */
  public record Result(long requests, int preloaded, long[] loads) {
    /** The largest cap computed: every model the trace or preload names; more caps change nothing. */
    public int maxCap() {
      return loads.length - 1;
    }

    /** Loads at cap {@code cap}; caps past {@link #maxCap()} equal it. */
    public long loadsAt(int cap) {
      return loads[Math.min(cap, maxCap())];
    }
  }

  private LruCurve() {}

  /** Computes the curve for {@code source}, with {@code preload} (canonical names) loaded first. */
  public static Result compute(RequestSource source, List<String> preload, ModelTable table) {
    Map<String, Integer> index = new HashMap<>();
    List<ModelSpec> models = table.models();
    for (int i = 0; i < models.size(); i++) {
      index.put(models.get(i).name(), i);
    }
    Map<String, Integer> byAsked = new HashMap<>();
    List<Integer> stack = new ArrayList<>(); // most recent last
    Set<Integer> preloaded = new HashSet<>();
    for (String model : preload) {
      int i = index.get(model);
      if (preloaded.add(i)) {
        stack.add(i);
      }
    }
    long[] atDepth = new long[models.size() + 2];
    long firstUse = 0;
    long requests = 0;
    boolean onlyPreloaded = !preloaded.isEmpty();
    RequestSource.Arrival a = new RequestSource.Arrival();
    while (source.next(a)) {
      requests++;
      String asked = a.model;
      int model = byAsked.computeIfAbsent(asked, m -> index.get(table.find(m).orElseThrow(() ->
          new InvalidInputException("a request asks for model '" + m + "', which is not in the model table; known models: "
              + table.describeAll())).name()));
      int position = stack.lastIndexOf(model);
      if (onlyPreloaded && preloaded.contains(model)) {
        // A hit at every cap: the surplus is still cached.
      } else if (position < 0) {
        onlyPreloaded = false;
        firstUse++;
      } else {
        onlyPreloaded = false;
        atDepth[stack.size() - position]++;
      }
      if (position >= 0) {
        stack.remove(position);
      }
      stack.add(model);
    }
    int maxCap = Math.max(1, stack.size());
    long[] loads = new long[maxCap + 1];
    for (int cap = 1; cap <= maxCap; cap++) {
      long misses = firstUse;
      for (int d = cap + 1; d < atDepth.length; d++) {
        misses += atDepth[d];
      }
      loads[cap] = preloaded.size() + misses;
    }
    return new Result(requests, preloaded.size(), loads);
  }
}
