package io.mlxcap.cache;

import static io.mlxcap.cache.CacheSystem.ESTIMATES;
import static io.mlxcap.cache.CacheSystem.GB;
import static io.mlxcap.cache.CacheSystem.MODELS;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;
import net.jqwik.api.statistics.Statistics;

/**
 * Model-based properties of the cache core: random chains of request, load done, load failed,
 * release, tick, clock, memory, manual load and unload events under random settings, with every
 * invariant of DESIGN.md checked after every step.
 */
final class ModelCacheProperties {
  private static final int STEPS = 60;

  @Property(tries = 1000)
  void invariantsHoldAfterEveryStep(@ForAll("chains") ActionChain<CacheSystem> chain) {
    chain
        .withInvariant("cap respected", CacheSystem::checkCapRespected)
        .withInvariant("busy models are never evicted", s -> s.checkNoViolation("busy models are never evicted"))
        .withInvariant("the victim is the first idle model in the policy's order",
            s -> s.checkNoViolation("the victim is the first idle model in the policy's order"))
        .withInvariant("one load per model at a time", s -> s.checkNoViolation("one load per model at a time"))
        .withInvariant("failed load leaves no residue", s -> s.checkNoViolation("failed load leaves no residue"))
        .withInvariant("a model starts only with the models that must go gone",
            s -> s.checkNoViolation("a model starts only with the models that must go gone"))
        .withInvariant("pins and requests match: none left behind", CacheSystem::checkPinsMatchRequests)
        .withInvariant("byte accounting exact", CacheSystem::checkByteAccounting)
        .run();
    CacheSystem end = chain.finalState().orElseThrow();
    Statistics.label("victims").collect(end.policy.victims());
    Statistics.label("victims").coverage(checker -> {
      for (VictimOrder order : VictimOrder.values()) {
        checker.check(order).percentage(p -> p >= 15.0);
      }
    });
    Statistics.label("groups").collect(end.policy.groups().active(), end.policy.waiters());
    Statistics.label("groups").coverage(checker -> {
      for (boolean active : new boolean[] {false, true}) {
        for (Waiters w : Waiters.values()) {
          checker.check(active, w).percentage(p -> p >= 5.0);
        }
      }
    });
    Statistics.label("backends").collect(!end.policy.neverEvicted().isEmpty(), end.policy.loadsPastCap());
    Statistics.label("backends").coverage(checker -> {
      for (boolean pins : new boolean[] {false, true}) {
        for (boolean past : new boolean[] {false, true}) {
          checker.check(pins, past).percentage(p -> p >= 5.0);
        }
      }
    });
    Statistics.label("rules").collect(end.policy.unsetKeepAlive(), end.policy.manualLoads());
    Statistics.label("rules").coverage(checker -> {
      for (UnsetKeepAlive unset : UnsetKeepAlive.values()) {
        for (ManualLoads manual : ManualLoads.values()) {
          checker.check(unset, manual).percentage(p -> p >= 10.0);
        }
      }
    });
    for (String label : MUST_REACH) {
      Statistics.label(label).collect(end.reached.contains(label));
      Statistics.label(label).coverage(checker -> checker.check(true).percentage(p -> p >= 0.5));
    }
  }

  /** Decisions the random chains must reach in at least 0.5 % of tries, 5 of the 1,000 (most reach far more; the cleanup of a preload surplus is the rarest, near 1 %), or the properties prove little. */
  private static final List<String> MUST_REACH = List.of(
      "Hit", "Joined", "Ready", "LoadFailed", "Waiting:all_models_busy", "Waiting:budget_busy",
      "Waiting:behind_waiting", "Rejected:too_large", "Evicted:max_models", "Evicted:cleanup",
      "Evicted:idle_ttl", "Evicted:pressure", "Evicted:budget", "Evicted:manual", "LoadSkipped:no_room",
      "UnloadRefused:in_use", "Evicted:swap", "Waiting:group_busy", "Rejected:concurrency_limit",
      "LoadStarted:past_cap");

  @Property(tries = 1000)
  void matchesTheReferenceModelStepByStep(@ForAll("chains") ActionChain<CacheSystem> chain) {
    chain.withInvariant("same decisions as the reference model", CacheSystem::checkMatchesReference).run();
  }

  @Provide
  Arbitrary<ActionChain<CacheSystem>> chains() {
    return systems().flatMap(start -> ActionChain.startWith(start::create)
        .withAction(6, request())
        .withAction(4, loadSucceeded())
        .withAction(1, loadFailed())
        .withAction(5, release())
        .withAction(2, tick())
        .withAction(3, advance())
        .withAction(2, memory())
        .withAction(1, unload())
        .withAction(1, manualLoad())
        .withMaxTransformations(STEPS));
  }

  /** A policy and preload list; a record so that shrinking can show it. */
  record Start(CachePolicy policy, List<String> preload, boolean preloadDone) {
    /** The system after its preload; when {@code preloadDone}, with every preload finished before the traffic, as a server starts. */
    CacheSystem create() {
      CacheSystem system = new CacheSystem(policy, preload);
      if (preloadDone) {
        system.loadingModels().forEach(m -> system.loadSucceeded(m, ESTIMATES.get(m)));
      }
      return system;
    }
  }

  private static Arbitrary<Start> systems() {
    Arbitrary<Integer> caps = Arbitraries.of(1, 2, 3, CachePolicy.UNLIMITED_MODELS);
    Arbitrary<Long> budgets = Arbitraries.of(CachePolicy.UNLIMITED_BYTES, 50 * GB, 70 * GB, 100 * GB, 140 * GB);
    Arbitrary<Duration> ttls = Arbitraries.of(CachePolicy.NO_IDLE_TTL, Duration.ofSeconds(60), Duration.ofSeconds(600), Duration.ZERO);
    Arbitrary<Double> thresholds = Arbitraries.of(CachePolicy.NO_PRESSURE_THRESHOLD, 0.95, 0.6);
    // Half the time three models, so that a surplus over a cap of 1 or 2 (and its cleanup) comes up often enough.
    Arbitrary<List<String>> preloads = Arbitraries.oneOf(Arbitraries.of(MODELS).list().uniqueElements().ofMaxSize(3),
        Arbitraries.of(MODELS).list().uniqueElements().ofSize(3));
    // Every policy's rules: each victim order (LocalAI: LRU or LARGEST_FIRST) with each keep-alive rule and each rule for manual loads
    // (mlx is LRU + RESETS + EVICTABLE, Ollama's scheduler SHORTEST_KEEP_ALIVE + STAYS + EVICTABLE,
    // llama.cpp's router LEAST_RECENTLY_STARTED, LM Studio LRU + STAYS + KEPT).
    Arbitrary<VictimOrder> orders = Arbitraries.of(VictimOrder.values());
    Arbitrary<UnsetKeepAlive> unsets = Arbitraries.of(UnsetKeepAlive.values());
    Arbitrary<ManualLoads> manuals = Arbitraries.of(ManualLoads.values());
    Arbitrary<CachePolicy> rules = Combinators.combine(orders, unsets, manuals)
        .as((order, unset, manual) -> new CachePolicy(1, 1, Duration.ZERO, 1, order, unset, manual));
    // llama-swap's parts: no groups, every model in the default group (one at a time), or two shapes of
    // groups (one neither swapping nor exclusive beside an exclusive one; a persistent one beside a
    // swapping one); waiters in order or each on its own; any number of requests per model, or 1 or 2.
    Arbitrary<ModelGroups> groups = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(ModelGroups.NONE)),
        Tuple.of(1, Arbitraries.of(ModelGroups.of(Map.of()),
            ModelGroups.of(Map.of(new ModelGroups.Group("pair", false, false, false), List.of("fast", "coder"),
                new ModelGroups.Group("solo", true, true, false), List.of("reasoning"))),
            ModelGroups.of(Map.of(new ModelGroups.Group("keep", false, false, true), List.of("fast"),
                new ModelGroups.Group("big", true, true, false), List.of("coder", "reasoning", "huge"))))));
    Arbitrary<Integer> limits = Arbitraries.of(CachePolicy.UNLIMITED_REQUESTS, CachePolicy.UNLIMITED_REQUESTS, 1, 2);
    // LocalAI's parts: no pinned model, or one; loads that wait for busy models forever, go past the cap
    // at once, or after 30 s.
    Arbitrary<java.util.Set<String>> pinned = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(java.util.Set.of())),
        Tuple.of(1, Arbitraries.of(java.util.Set.of("fast"), java.util.Set.of("reasoning"))));
    Arbitrary<Duration> pastCap = Arbitraries.frequency(Tuple.of(4, CachePolicy.NEVER_PAST_CAP),
        Tuple.of(1, Duration.ZERO), Tuple.of(1, Duration.ofSeconds(30)));
    // Half the time the preload finishes before the traffic (a surplus over the cap is then idle, for cleanup to find).
    // llama-swap's per-model ttl: none, or one model with an idle TTL of its own (30 s, or 0: unload when idle).
    Arbitrary<Map<String, Duration>> ownTtls = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(Map.of())),
        Tuple.of(1, Arbitraries.of(Map.of("fast", Duration.ofSeconds(30)), Map.of("coder", Duration.ZERO))));
    Arbitrary<Object[]> swapping = Combinators.combine(groups, Arbitraries.of(Waiters.values()), limits, pinned, pastCap,
        Arbitraries.of(true, false), ownTtls).as((g, w, l, p, c, done, t) -> new Object[] {g, w, l, p, c, done, t});
    return Combinators.combine(caps, budgets, ttls, thresholds, preloads, rules, swapping)
        .as((cap, budget, ttl, threshold, preload, r, sw) -> new Start(new CachePolicy(cap, budget, ttl, threshold,
            r.victims(), r.unsetKeepAlive(), r.manualLoads(), (ModelGroups) sw[0], (Waiters) sw[1], (Integer) sw[2])
            .withBackends(cast(sw[3]), (Duration) sw[4]).withModelTtls(castTtls(sw[6])), preload, (Boolean) sw[5]));
  }

  @SuppressWarnings("unchecked")
  private static java.util.Set<String> cast(Object pinned) {
    return (java.util.Set<String>) pinned;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Duration> castTtls(Object ttls) {
    return (Map<String, Duration>) ttls;
  }

  private static Action.Independent<CacheSystem> request() {
    // Mostly the default keep-alive; sometimes Ollama's 0 (unload when idle), 90 s, or -1 (forever).
    Arbitrary<Long> keepAlives = Arbitraries.frequency(Tuple.of(6, ModelCache.KEEP_ALIVE_DEFAULT), Tuple.of(1, 0L),
        Tuple.of(1, 90_000_000_000L), Tuple.of(1, ModelCache.KEEP_ALIVE_FOREVER));
    return () -> Combinators.combine(Arbitraries.of(MODELS), keepAlives)
        .as((m, k) -> Transformer.mutate("request " + m + (k == ModelCache.KEEP_ALIVE_DEFAULT ? ""
            : k == ModelCache.KEEP_ALIVE_FOREVER ? " keep-alive forever" : " keep-alive " + k / 1_000_000_000L + "s"),
            s -> s.request(m, k)));
  }

  /** An action that picks one of {@code options(state)}, possible only while there is one. */
  private static <T> Action.Dependent<CacheSystem> pickOneOf(
      Function<CacheSystem, List<T>> options, Function<Arbitrary<T>, Arbitrary<Transformer<CacheSystem>>> act) {
    return new Action.Dependent<>() {
      @Override
      public boolean precondition(CacheSystem state) {
        return !options.apply(state).isEmpty();
      }

      @Override
      public Arbitrary<Transformer<CacheSystem>> transformer(CacheSystem state) {
        return act.apply(Arbitraries.of(options.apply(state)));
      }
    };
  }

  private static Action.Dependent<CacheSystem> loadSucceeded() {
    // Reported sizes differ from the estimates both ways, so budget overshoot is exercised.
    return pickOneOf(CacheSystem::loadingModels, models -> Combinators.combine(models, Arbitraries.longs().between(-2, 6))
        .as((m, delta) -> Transformer.mutate("loaded " + m + " " + delta + "GB off",
            s -> s.loadSucceeded(m, ESTIMATES.get(m) + delta * GB))));
  }

  private static Action.Dependent<CacheSystem> loadFailed() {
    return pickOneOf(CacheSystem::loadingModels,
        models -> models.map(m -> Transformer.mutate("fail " + m, s -> s.loadFailed(m))));
  }

  private static Action.Dependent<CacheSystem> release() {
    return pickOneOf(CacheSystem::activeRequests,
        ids -> ids.map(id -> Transformer.mutate("release " + id, s -> s.release(id))));
  }

  private static Action.Independent<CacheSystem> tick() {
    return () -> Arbitraries.longs().between(0, 1200).map(sec -> Transformer.mutate("tick +" + sec + "s", s -> s.tick(sec)));
  }

  private static Action.Independent<CacheSystem> advance() {
    return () -> Arbitraries.longs().between(0, 300).map(sec -> Transformer.mutate("advance +" + sec + "s", s -> s.advance(sec)));
  }

  private static Action.Independent<CacheSystem> memory() {
    return () -> Arbitraries.longs().between(0, 170)
        .map(gb -> Transformer.mutate("memory " + gb + "GB used", s -> s.memoryObserved(gb * GB)));
  }

  private static Action.Independent<CacheSystem> unload() {
    return () -> Arbitraries.of(MODELS).map(m -> Transformer.mutate("unload " + m, s -> s.unload(m)));
  }

  private static Action.Independent<CacheSystem> manualLoad() {
    return () -> Arbitraries.of(MODELS).map(m -> Transformer.mutate("load " + m, s -> s.load(m)));
  }
}
