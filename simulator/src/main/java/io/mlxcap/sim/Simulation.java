package io.mlxcap.sim;

import io.mlxcap.InvalidInputException;
import io.mlxcap.cache.CacheActions;
import io.mlxcap.cache.CacheEvent;
import io.mlxcap.cache.CacheEvent.Evicted;
import io.mlxcap.cache.CacheEvent.Hit;
import io.mlxcap.cache.CacheEvent.Joined;
import io.mlxcap.cache.CacheEvent.LoadFailed;
import io.mlxcap.cache.CacheEvent.LoadFinished;
import io.mlxcap.cache.CacheEvent.LoadSkipped;
import io.mlxcap.cache.CacheEvent.LoadStarted;
import io.mlxcap.cache.CacheEvent.Ready;
import io.mlxcap.cache.CacheEvent.Rejected;
import io.mlxcap.cache.CacheEvent.UnloadRefused;
import io.mlxcap.cache.CacheEvent.Waiting;
import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.lifecycle.Dispatcher;
import io.mlxcap.lifecycle.Lifecycle;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.Performance;
import io.mlxcap.model.SizeRange;
import io.mlxcap.settings.Settings;
import io.mlxcap.trace.TraceEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One discrete-event replay of a trace through the shared cache core, in virtual time.
 *
 * <h2>How a request travels</h2>
 * ARRIVAL → {@link Dispatcher} (a worker, the FIFO queue, or refused) → {@link ModelCache#request}
 * (hit, join a load, load after evicting, or wait for room) → service (its recorded time, or prefill
 * and decode at the model's rates) → {@link ModelCache#release} → the worker takes the next queued
 * request. The request pins its model from acquiring it to its release, exactly as in the server.
 *
 * <h2>Events and their order</h2>
 * Load done, service done, cleanup tick, arrival; at equal times in that order (completions first),
 * then in the order they were scheduled. The one arrival read ahead waits beside the queue rather
 * than in it (it is last at its time anyway), which spares a heap insertion and removal per request.
 * No threads, no clock: the same inputs give the same result.
 *
 * <h2>Memory</h2>
 * RSS = runtime base + resident model bytes + the bytes of loads in progress (× 1 + transient) +
 * working memory of requests in service ((prompt + output tokens) × the model's KV bytes per token).
 * The peak is exact: RSS is evaluated after every event, and the models loading or resident at the
 * peak are kept with it (a report names the models that set it). The pressure rule is fed host RAM in use =
 * other usage + RSS after every load finishes and at every cleanup tick, which is when the server
 * checks it too.
 */
public final class Simulation {
  static final int LOAD_DONE = 0;
  static final int SERVICE_DONE = 1;
  static final int TICK = 2;
  // Arrivals come after every queued kind at the same time; the one read ahead waits beside the queue.

  /** Tokens assumed when a trace does not give them and there is no recorded service time. */
  static final long DEFAULT_PROMPT_TOKENS = 512;
  static final long DEFAULT_OUTPUT_TOKENS = 256;

  private final Settings settings;
  private final ModelTable table;
  private final HostProfile host;
  private final SizeRange.Estimate estimate;

  // Models, by index.
  private final String[] names;
  private final long[] modelBytes;
  /** What a load of each model holds while in progress: its bytes and the host's transient share of them. */
  private final long[] loadFootprint;
  private final Performance[] performance;
  private final NameIndex byCanonical = new NameIndex();
  private final NameIndex byAsked = new NameIndex();
  /** The models' load times, worked out once; it counts the loads (the first ones are the warm-up). */
  private final HostProfile.LoadClock loadClock;

  /** Requests in the system, by slot; a slot is the request's id in the cache and dispatcher. */
  private final RequestSlots slots;

  private ModelCache cache;
  private Lifecycle lifecycle;
  private final EventQueue queue = new EventQueue();
  private final RequestSource.Arrival pending = new RequestSource.Arrival();
  private boolean morePending;
  private int loadsInFlight;

  /** The memory model: RSS after every event, its peak, mean and timeline. */
  private final MemoryMeter memory;
  /** Each model's context length (0 unknown), and whether it has one to check. */
  private final long[] contextTokens;
  private final boolean[] overContext;
  /** The timing a recording observed, when the replay takes it (loads, ticks); null to predict it. */
  private RecordedTiming recorded;
  /** Loads of each model started so far, and what the one under way will hold (recorded timing). */
  private int[] loadsStarted;
  private long[] loadingReported;
  private int nextTick;
  private long unrecordedLoads;
  /** Generations sharing the cores, when the host's profile says they slow each other; null when they do not. */
  private final ProcessorSharing sharing;
  /** Why each model's load in progress will fail, or null when it will not. */
  private final String[] failing;
  /** What each model's load in progress holds: its footprint, or for a failing load what was free. */
  private final long[] failingHolds;
  /** What each model's first service after a load takes beyond its usual one. */
  private final long[] coldExtra;
  /** Who wants to see the core's decisions (a replay compared with a recording); null when nobody. */
  private java.util.function.BiConsumer<Long, CacheEvent> decisions;

  // Counts.
  private long requests;
  private long served;
  private long rejectedQueue;
  private long rejectedTooLarge;
  private long rejectedLoadFailed;
  private long loadsFailed;
  private long rejectedOverContext;
  private long hits;
  private long cold;
  private long preloadsSkipped;
  private final long[] loadsByCause = new long[LoadCause.values().length];
  private final long[] evictionsByReason = new long[EvictionReason.values().length];
  private final LogHistogram coldWait = new LogHistogram();
  private final LogHistogram latency = new LogHistogram();
  private final LogHistogram queueWait = new LogHistogram();
  private final long[] modelRequests;
  private final long[] modelHits;
  private final long[] modelCold;
  private final long[] modelLoads;
  private final long[] modelEvictions;
  private final LogHistogram[] modelColdWait;

  /**
   * A simulation under {@code settings}, with models from {@code table} sized at {@code estimate},
   * on {@code host}; {@code ramLine} is the RSS line whose crossing time is reported.
   */
  public Simulation(Settings settings, ModelTable table, HostProfile host, SizeRange.Estimate estimate, long ramLine) {
    this.settings = settings;
    this.table = table;
    this.host = host;
    this.estimate = estimate;
    List<ModelSpec> specs = table.models();
    int n = specs.size();
    names = new String[n];
    modelBytes = new long[n];
    loadFootprint = new long[n];
    performance = new Performance[n];
    contextTokens = new long[n];
    overContext = new boolean[n];
    for (int i = 0; i < n; i++) {
      names[i] = specs.get(i).name();
      modelBytes[i] = specs.get(i).residentBytes(estimate);
      loadFootprint[i] = modelBytes[i] + Math.round(modelBytes[i] * host.loadTransient());
      performance[i] = specs.get(i).performance();
      contextTokens[i] = specs.get(i).details().contextTokens();
      overContext[i] = contextTokens[i] > 0;
      byCanonical.put(names[i], i);
    }
    loadClock = host.loadClock(names, modelBytes); // the weights are read; the context is allocated, not read
    for (int i = 0; i < n; i++) {
      // A server that allocates each slot's context at load (Ollama) holds it while the model stays.
      long slots = settings.contextTokens() == 0 ? 0 : settings.maxConcurrentRequests();
      long tokens = contextTokens[i] > 0 ? Math.min(settings.contextTokens(), contextTokens[i]) : settings.contextTokens();
      long context = slots * tokens * performance[i].kvBytesPerToken();
      modelBytes[i] += context;
      loadFootprint[i] += context;
    }
    sharing = host.service().slowdownPerGeneration() > 0 ? new ProcessorSharing(host.service()) : null;
    failing = new String[n];
    failingHolds = new long[n];
    coldExtra = new long[n];
    for (int i = 0; i < n; i++) {
      coldExtra[i] = host.service().coldExtraNanos(names[i]);
    }
    memory = new MemoryMeter(host.runtimeBaseBytes(), ramLine, names);
    modelRequests = new long[n];
    modelHits = new long[n];
    modelCold = new long[n];
    modelLoads = new long[n];
    modelEvictions = new long[n];
    modelColdWait = new LogHistogram[n];
    for (int i = 0; i < n; i++) {
      modelColdWait[i] = new LogHistogram();
    }
    slots = new RequestSlots(names);
  }

  /**
   * Takes loads and cleanup ticks as {@code timing} recorded them instead of predicting them: each
   * model's n-th load takes as long and holds as much as its n-th recorded load, and the ticks come when
   * the server ran them. Call before {@link #run}.
   */
  public Simulation withRecordedTiming(RecordedTiming timing) {
    this.recorded = timing;
    loadsStarted = new int[names.length];
    loadingReported = new long[names.length];
    return this;
  }

  /** Replays {@code source} and returns what happened; a simulation runs once. */
  public SimResult run(RequestSource source) {
    if (cache != null) {
      throw new IllegalStateException("a simulation runs once");
    }
    cache = ModelCache.create(settings.cache(), model -> modelBytes[byCanonical.get(model)]);
    lifecycle = new Lifecycle(cache, new Dispatcher(settings.maxConcurrentRequests(), settings.maxQueue()), slots,
        Lifecycle.Gate.OPEN);
    handle(lifecycle.preload(settings.preloadModels(), 0), 0);
    noteMemory(0);
    long interval = settings.cleanupInterval().toNanos();
    if (recordedTicks()) {
      queue.add(recorded.ticks()[nextTick++], TICK, 0);
    } else if (interval > 0) {
      queue.add(interval, TICK, 0);
    }
    readNext(source);
    long now = 0;
    while (true) {
      // The next arrival waits outside the queue: arrivals sort last among events at the same time,
      // so it goes next exactly when no queued event comes at or before it.
      if (queue.size() > 0 && (!morePending || queue.peekTime() <= pending.timeNanos)) {
        queue.poll();
        if (queue.kind() == SERVICE_DONE && queue.payload() < 0 && -1 - queue.payload() != sharing.version()) {
          continue; // the number in service changed since this end was scheduled: another event stands for it
        }
        if (queue.kind() == TICK && !workRemains() && !recordedTicks()) {
          break; // the traffic is over: a last tick would only stretch the window the means are taken over
        }
        now = queue.time();
        memory.advance(now);
        switch (queue.kind()) {
          case LOAD_DONE -> loadDone((int) queue.payload(), now);
          case SERVICE_DONE -> serviceDone(queue.payload() < 0 ? sharing.takeFirst() : (int) queue.payload(), now);
          default -> tick(now, interval);
        }
      } else if (morePending) {
        now = pending.timeNanos;
        memory.advance(now);
        arrive(now, source);
      } else {
        break;
      }
      noteMemory(now);
    }
    return result(now);
  }

  /** Loads a recorded-timing replay timed from the profile because the recording held no more loads of their model. */
  public long unrecordedLoads() {
    return unrecordedLoads;
  }

  // ---- events ----

  private void readNext(RequestSource source) {
    morePending = source.next(pending);
  }

  private void arrive(long now, RequestSource source) {
    requests++;
    int model = resolve(pending.model);
    modelRequests[model]++;
    int slot = slots.arrive(now, model, pending.promptTokens, pending.outputTokens, pending.serviceNanos);
    if (overContext[model]) {
      // The server refuses it before it waits for anything (400 context_length_exceeded): so does the replay.
      long asked = Math.max(0, pending.promptTokens) + Math.max(0, pending.outputTokens);
      if (asked > contextTokens[model]) {
        rejectedOverContext++;
        slots.free(slot);
        readNext(source);
        return;
      }
    }
    slots.keepAlive(slot, pending.keepAliveNanos == TraceEvent.UNKNOWN ? ModelCache.KEEP_ALIVE_DEFAULT : pending.keepAliveNanos);
    Lifecycle.Arrival arrival = lifecycle.arrive(slot, now);
    if (arrival.admission() == Dispatcher.Admission.REJECTED) {
      rejectedQueue++;
      slots.free(slot);
    } else {
      handle(arrival.events(), now);
    }
    readNext(source);
  }

  private void loadDone(int model, long now) {
    loadsInFlight--;
    if (failing[model] != null) {
      String error = failing[model];
      failing[model] = null;
      memory.loadFailed(model, failingHolds[model]);
      handle(lifecycle.loadFailed(names[model], error, now), now);
      checkPressure(now);
      return;
    }
    memory.loadDone(loadFootprint[model], host.growthPerLoadBytes());
    long bytes = recorded != null && loadingReported[model] >= 0 ? loadingReported[model] : modelBytes[model];
    handle(lifecycle.loadSucceeded(names[model], bytes, now), now);
    checkPressure(now);
  }

  private void serviceDone(int slot, long now) {
    memory.working(-slots.kvBytes(slot));
    served++;
    latency.record(now - slots.arrivalAt(slot));
    queueWait.record(slots.workerStart(slot) - slots.arrivalAt(slot));
    slots.free(slot);
    if (sharing != null) {
      sharing.finished(now);
      scheduleShared();
    }
    handle(lifecycle.finish(slot, now), now);
  }

  /** The one event that stands for the next end of a shared generation, under the current schedule. */
  private void scheduleShared() {
    long due = sharing.nextDue();
    if (due != ProcessorSharing.NONE) {
      queue.add(due, SERVICE_DONE, -1 - sharing.version());
    }
  }

  private void tick(long now, long interval) {
    handle(lifecycle.tick(now), now);
    checkPressure(now);
    if (recordedTicks()) {
      if (nextTick < recorded.ticks().length) {
        queue.add(recorded.ticks()[nextTick++], TICK, 0);
      }
    } else {
      queue.add(now + interval, TICK, 0);
    }
  }

  /** Whether the ticks come from a recording: the server ran every one of them, after its traffic too. */
  private boolean recordedTicks() {
    return recorded != null && recorded.ticks().length > 0;
  }

  private boolean workRemains() {
    return morePending || slots.inSystem() > 0 || loadsInFlight > 0;
  }

  private void checkPressure(long now) {
    noteMemory(now);
    handle(lifecycle.memoryObserved(host.otherBytes() + memory.rss(), host.ramBytes(), now), now);
  }

  /**
   * Hands every decision of the cache core to {@code sink} as it is made, with its virtual time: to
   * compare a replay with what a live server decided. Call before {@link #run}.
   */
  public Simulation onDecision(java.util.function.BiConsumer<Long, CacheEvent> sink) {
    this.decisions = sink;
    return this;
  }

  /** Carries out what the core decided (the lifecycle has already handed on the workers its rejections freed). */
  private void handle(List<CacheEvent> events, long now) {
    actions.now = now;
    actions.evictedForLoad = 0;
    if (decisions != null) {
      for (int i = 0, n = events.size(); i < n; i++) {
        decisions.accept(now, events.get(i));
      }
    }
    CacheActions.apply(events, actions);
  }

  /** What each of the core's decisions means in virtual time. */
  private final class Actions implements CacheActions {
    long now;
    /** Bytes evicted in this decision since its last load started: the room made for the next load. */
    long evictedForLoad;

    @Override
    public void hit(Hit e) {
      startService((int) e.requestId(), now);
    }

    @Override
    public void ready(Ready e) {
      startService((int) e.requestId(), now);
    }

    @Override
    public void joined(Joined e) {
      slots.missed((int) e.requestId());
    }

    @Override
    public void waiting(Waiting e) {
      slots.missed((int) e.requestId());
    }

    @Override
    public void rejected(Rejected e) {
      if (e.reason() == CacheEvent.RejectReason.LOAD_FAILED) {
        rejectedLoadFailed++;
      } else if (e.reason() == CacheEvent.RejectReason.CONCURRENCY_LIMIT) {
        rejectedQueue++; // refused at admission, as a full queue is (llama-swap's concurrencyLimit: 429)
      } else {
        rejectedTooLarge++;
      }
      slots.free((int) e.requestId());
    }

    @Override
    public void loadStarted(LoadStarted e) {
      int model = byCanonical.get(e.model());
      loadsByCause[e.cause().ordinal()]++;
      modelLoads[model]++;
      loadsInFlight++;
      long took = loadNanos(model, evictedForLoad);
      long free = Math.max(0, host.ramBytes() - host.otherBytes() - memory.rssWith(cache.residentBytes()));
      long holds = loadFootprint[model];
      if (settings.policy().failsLoadsThatDoNotFit() && loadFootprint[model] > free) {
        // The server loads without looking: the load reads until the free memory is gone, then fails.
        failing[model] = names[model] + " needs " + io.mlxcap.ByteSize.format(loadFootprint[model]) + " to load but "
            + io.mlxcap.ByteSize.format(free) + " of the host's memory is free";
        took = Math.round(took * (free / (double) loadFootprint[model]));
        holds = free;
      }
      failingHolds[model] = holds;
      memory.loadStarted(model, holds);
      queue.add(now + took, LOAD_DONE, model);
      evictedForLoad = 0;
      if (e.requestId() != CacheEvent.NO_REQUEST) {
        slots.missed((int) e.requestId());
      }
    }

    @Override
    public void loadFinished(LoadFinished e) {
      // Counted when the load started; its memory is settled in loadDone.
    }

    @Override
    public void loadFailed(LoadFailed e) {
      loadsFailed++; // only a load the simulator failed itself: one that does not fit, under a policy that tries anyway
    }

    @Override
    public void evicted(Evicted e) {
      evictionsByReason[e.reason().ordinal()]++;
      evictedForLoad += e.bytes();
      int model = byCanonical.get(e.model());
      modelEvictions[model]++;
      memory.evicted(model);
    }

    @Override
    public void loadSkipped(LoadSkipped e) {
      preloadsSkipped++;
    }

    @Override
    public void unloadRefused(UnloadRefused e) {
      throw new IllegalStateException("the simulator never unloads by hand, yet the core reported " + e);
    }
  }

  private final Actions actions = new Actions();

  /** How long a load of {@code model} that evicted {@code evicted} bytes takes: as recorded, else as the profile predicts. */
  private long loadNanos(int model, long evicted) {
    if (recorded != null) {
      int n = loadsStarted[model]++;
      long took = recorded.loadNanos(names[model], n);
      loadingReported[model] = recorded.loadBytes(names[model], n);
      if (took >= 0) {
        return took;
      }
      unrecordedLoads++;
    }
    return loadClock.next(model) + host.evictionDelayNanos(evicted);
  }

  private void startService(int slot, long now) {
    int model = slots.model(slot);
    boolean hit = slots.hit(slot);
    long waited = now - slots.workerStart(slot);
    if (hit) {
      hits++;
      modelHits[model]++;
    } else {
      cold++;
      modelCold[model]++;
      coldWait.record(waited);
      modelColdWait[model].record(waited);
    }
    long p = slots.promptTokens(slot) == TraceEvent.UNKNOWN ? DEFAULT_PROMPT_TOKENS : slots.promptTokens(slot);
    long o = slots.outputTokens(slot) == TraceEvent.UNKNOWN ? DEFAULT_OUTPUT_TOKENS : slots.outputTokens(slot);
    long recordedService = slots.recordedService(slot);
    boolean recordedTime = recordedService != TraceEvent.UNKNOWN;
    long service = recordedTime
        ? recordedService
        : Math.max(1, performance[model].serviceNanos(p, o) + (hit ? 0 : coldExtra[model]));
    long kv = settings.contextTokens() > 0 ? 0 : (p + o) * performance[model].kvBytesPerToken(); // else held since the load
    slots.kvBytes(slot, kv);
    memory.working(kv);
    if (sharing == null) {
      queue.add(now + service, SERVICE_DONE, slot);
    } else if (recordedTime) {
      sharing.startFixed(now);
      queue.add(now + service, SERVICE_DONE, slot);
      scheduleShared();
    } else {
      sharing.startShared(slot, service, now);
      scheduleShared();
    }
  }

  private int resolve(String asked) {
    int index = byAsked.get(asked);
    if (index < 0) {
      ModelSpec spec = table.find(asked).orElseThrow(() -> new InvalidInputException(
          "a request at t_ms " + pending.timeNanos / 1e6 + " asks for model '" + asked
              + "', which is not in the model table; known models: " + table.describeAll()));
      index = byCanonical.get(spec.name());
      byAsked.put(asked, index);
    }
    return index;
  }

  /** The RSS now, after an event. */
  private void noteMemory(long now) {
    memory.note(now, cache.residentBytes());
  }

  // ---- result ----

  private SimResult result(long end) {
    Map<String, Long> loads = new LinkedHashMap<>();
    for (LoadCause c : LoadCause.values()) {
      loads.put(c.wireName(), loadsByCause[c.ordinal()]);
    }
    Map<String, Long> evictions = new LinkedHashMap<>();
    for (EvictionReason r : EvictionReason.values()) {
      if (r != EvictionReason.SWAP || settings.cache().groups().active()) {
        evictions.put(r.wireName(), evictionsByReason[r.ordinal()]); // swap only where groups exist: older files stay as they were
      }
    }
    List<SimResult.ModelResult> models = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      models.add(new SimResult.ModelResult(names[i], modelRequests[i], modelHits[i], modelCold[i], modelLoads[i],
          modelEvictions[i], modelColdWait[i]));
    }
    return new SimResult(estimate, requests, served, rejectedQueue, rejectedTooLarge, rejectedLoadFailed, loadsFailed,
        rejectedOverContext, hits, cold,
        memory.peak(), memory.peakAt(), memory.peakModels(), memory.mean(end), memory.ramLine(), memory.aboveLine(), end,
        loads, evictions, preloadsSkipped, coldWait, latency, queueWait, models, memory.timeline(end));
  }
}
