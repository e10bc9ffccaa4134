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
  private final long ramLine;

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

  // Requests in the system, by slot; a slot is the request's id in the cache and dispatcher.
  private long[] arrivalAt;
  private int[] modelOf;
  private long[] prompt;
  private long[] output;
  private long[] recordedService;
  /** The keep-alive each request asked for, or ModelCache.KEEP_ALIVE_DEFAULT. */
  private long[] keepAlive;
  private long[] workerStart;
  private boolean[] hit;
  private long[] kv;
  private int[] freeSlots;
  private int freeCount;
  private int slotsUsed;

  private ModelCache cache;
  private Lifecycle lifecycle;
  private final EventQueue queue = new EventQueue();
  private final RequestSource.Arrival pending = new RequestSource.Arrival();
  private boolean morePending;
  private int inSystem;
  private int loadsInFlight;

  // Memory.
  private long loadingBytes;
  private long kvBytes;
  /** What the process kept from the loads so far beyond the models (HostProfile.growthPerLoadBytes). */
  private long grownBytes;
  private long lastRss;
  private long lastChange;
  private double rssIntegral;
  private long aboveLine;
  private long peak;
  private long peakAt;
  /** Models loading or resident now, by index, and a counter bumped whenever that set changes. */
  private final boolean[] present;
  /** Each model's context length (0 unknown), and whether it has one to check. */
  private final long[] contextTokens;
  private final boolean[] overContext;
  private long residency;
  private long peakResidency = -1;
  private List<String> peakModels = List.of();
  private final MemoryTimeline timeline = new MemoryTimeline();
  /** The timing a recording observed, when the replay takes it (loads, ticks); null to predict it. */
  private RecordedTiming recorded;
  /** Loads of each model started so far, and what the one under way will hold (recorded timing). */
  private int[] loadsStarted;
  private long[] loadingReported;
  private int nextTick;
  private long unrecordedLoads;
  /** Generations sharing the cores, when the host's profile says they slow each other; null when they do not. */
  private final ProcessorSharing sharing;
  /** What each model's first service after a load takes beyond its usual one. */
  private final long[] coldExtra;
  /** Who wants to see the core's decisions (a replay compared with a recording); null when nobody. */
  private java.util.function.BiConsumer<Long, CacheEvent> decisions;

  // Counts.
  private long requests;
  private long served;
  private long rejectedQueue;
  private long rejectedTooLarge;
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
    this.ramLine = ramLine;
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
    loadClock = host.loadClock(names, modelBytes);
    sharing = host.service().slowdownPerGeneration() > 0 ? new ProcessorSharing(host.service()) : null;
    coldExtra = new long[n];
    for (int i = 0; i < n; i++) {
      coldExtra[i] = host.service().coldExtraNanos(names[i]);
    }
    present = new boolean[n];
    modelRequests = new long[n];
    modelHits = new long[n];
    modelCold = new long[n];
    modelLoads = new long[n];
    modelEvictions = new long[n];
    modelColdWait = new LogHistogram[n];
    for (int i = 0; i < n; i++) {
      modelColdWait[i] = new LogHistogram();
    }
    // Slots grow with the requests in the system, not with MLX_MAX_QUEUE (which may be 2^31 - 1).
    int slots = 16;
    arrivalAt = new long[slots];
    modelOf = new int[slots];
    prompt = new long[slots];
    output = new long[slots];
    recordedService = new long[slots];
    keepAlive = new long[slots];
    workerStart = new long[slots];
    hit = new boolean[slots];
    kv = new long[slots];
    freeSlots = new int[slots];
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
    lastRss = host.runtimeBaseBytes();
    timeline.record(0, lastRss);
    peak = lastRss;
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
        advanceMemory(now);
        switch (queue.kind()) {
          case LOAD_DONE -> loadDone((int) queue.payload(), now);
          case SERVICE_DONE -> serviceDone(queue.payload() < 0 ? sharing.takeFirst() : (int) queue.payload(), now);
          default -> tick(now, interval);
        }
      } else if (morePending) {
        now = pending.timeNanos;
        advanceMemory(now);
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
    int slot = freeCount > 0 ? freeSlots[--freeCount] : newSlot();
    inSystem++;
    arrivalAt[slot] = now;
    modelOf[slot] = model;
    prompt[slot] = pending.promptTokens;
    output[slot] = pending.outputTokens;
    recordedService[slot] = pending.serviceNanos;
    if (overContext[model]) {
      // The server refuses it before it waits for anything (400 context_length_exceeded): so does the replay.
      long asked = Math.max(0, pending.promptTokens) + Math.max(0, pending.outputTokens);
      if (asked > contextTokens[model]) {
        rejectedOverContext++;
        freeSlot(slot);
        readNext(source);
        return;
      }
    }
    keepAlive[slot] = pending.keepAliveNanos == TraceEvent.UNKNOWN ? ModelCache.KEEP_ALIVE_DEFAULT : pending.keepAliveNanos;
    Lifecycle.Arrival arrival = lifecycle.arrive(slot, now);
    if (arrival.admission() == Dispatcher.Admission.REJECTED) {
      rejectedQueue++;
      freeSlot(slot);
    } else {
      handle(arrival.events(), now);
    }
    readNext(source);
  }

  /** A slot never used before, the arrays grown when full; freed slots are reused first (last freed, first reused). */
  private int newSlot() {
    if (slotsUsed == arrivalAt.length) {
      int n = arrivalAt.length * 2;
      arrivalAt = java.util.Arrays.copyOf(arrivalAt, n);
      modelOf = java.util.Arrays.copyOf(modelOf, n);
      prompt = java.util.Arrays.copyOf(prompt, n);
      output = java.util.Arrays.copyOf(output, n);
      recordedService = java.util.Arrays.copyOf(recordedService, n);
      keepAlive = java.util.Arrays.copyOf(keepAlive, n);
      workerStart = java.util.Arrays.copyOf(workerStart, n);
      hit = java.util.Arrays.copyOf(hit, n);
      kv = java.util.Arrays.copyOf(kv, n);
      freeSlots = java.util.Arrays.copyOf(freeSlots, n);
    }
    return slotsUsed++;
  }

  /** What the lifecycle reads of a request in the system, by its slot; and where it says a request got its worker. */
  private final Lifecycle.Requests slots = new Lifecycle.Requests() {
    @Override
    public String model(long id) {
      return names[modelOf[(int) id]];
    }

    @Override
    public long keepAlive(long id) {
      return keepAlive[(int) id];
    }

    @Override
    public void started(long id, long now) {
      workerStart[(int) id] = now;
      hit[(int) id] = true;
    }
  };

  private void loadDone(int model, long now) {
    loadsInFlight--;
    loadingBytes -= loadFootprint[model];
    grownBytes += host.growthPerLoadBytes();
    long bytes = recorded != null && loadingReported[model] >= 0 ? loadingReported[model] : modelBytes[model];
    handle(lifecycle.loadSucceeded(names[model], bytes, now), now);
    checkPressure(now);
  }

  private void serviceDone(int slot, long now) {
    kvBytes -= kv[slot];
    served++;
    latency.record(now - arrivalAt[slot]);
    queueWait.record(workerStart[slot] - arrivalAt[slot]);
    freeSlot(slot);
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
    return morePending || inSystem > 0 || loadsInFlight > 0;
  }

  private void checkPressure(long now) {
    noteMemory(now);
    handle(lifecycle.memoryObserved(host.otherBytes() + lastRss, host.ramBytes(), now), now);
  }

  private void freeSlot(int slot) {
    freeSlots[freeCount++] = slot;
    inSystem--;
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
      hit[(int) e.requestId()] = false;
    }

    @Override
    public void waiting(Waiting e) {
      hit[(int) e.requestId()] = false;
    }

    @Override
    public void rejected(Rejected e) {
      rejectedTooLarge++;
      freeSlot((int) e.requestId());
    }

    @Override
    public void loadStarted(LoadStarted e) {
      int model = byCanonical.get(e.model());
      loadsByCause[e.cause().ordinal()]++;
      modelLoads[model]++;
      loadsInFlight++;
      loadingBytes += loadFootprint[model];
      present[model] = true;
      residency++;
      queue.add(now + loadNanos(model, evictedForLoad), LOAD_DONE, model);
      evictedForLoad = 0;
      if (e.requestId() != CacheEvent.NO_REQUEST) {
        hit[(int) e.requestId()] = false;
      }
    }

    @Override
    public void loadFinished(LoadFinished e) {
      // Counted when the load started; its memory is settled in loadDone.
    }

    @Override
    public void loadFailed(LoadFailed e) {
      throw new IllegalStateException("the simulator never fails a load, yet the core reported " + e);
    }

    @Override
    public void evicted(Evicted e) {
      evictionsByReason[e.reason().ordinal()]++;
      evictedForLoad += e.bytes();
      int model = byCanonical.get(e.model());
      modelEvictions[model]++;
      present[model] = false;
      residency++;
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
    int model = modelOf[slot];
    long waited = now - workerStart[slot];
    if (hit[slot]) {
      hits++;
      modelHits[model]++;
    } else {
      cold++;
      modelCold[model]++;
      coldWait.record(waited);
      modelColdWait[model].record(waited);
    }
    long p = prompt[slot] == TraceEvent.UNKNOWN ? DEFAULT_PROMPT_TOKENS : prompt[slot];
    long o = output[slot] == TraceEvent.UNKNOWN ? DEFAULT_OUTPUT_TOKENS : output[slot];
    boolean recordedTime = recordedService[slot] != TraceEvent.UNKNOWN;
    long service = recordedTime
        ? recordedService[slot]
        : Math.max(1, performance[model].serviceNanos(p, o) + (hit[slot] ? 0 : coldExtra[model]));
    kv[slot] = (p + o) * performance[model].kvBytesPerToken();
    kvBytes += kv[slot];
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

  // ---- memory ----

  /** Accounts for the time since the last change at the RSS that held during it. */
  private void advanceMemory(long now) {
    long dt = now - lastChange;
    if (dt > 0) {
      rssIntegral += (double) lastRss * dt;
      if (lastRss > ramLine) {
        aboveLine += dt;
      }
      lastChange = now;
    }
  }

  private void noteMemory(long now) {
    long rss = host.runtimeBaseBytes() + cache.residentBytes() + loadingBytes + kvBytes + grownBytes;
    if (rss != lastRss) {
      advanceMemory(now);
      lastRss = rss;
      timeline.record(now, rss);
      if (rss > peak) {
        peak = rss;
        peakAt = now;
        notePeakModels();
      }
    }
  }

  /** Remembers which models were loading or resident at the peak; a copy only when that set changed. */
  private void notePeakModels() {
    if (peakResidency == residency) {
      return;
    }
    peakResidency = residency;
    List<String> models = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      if (present[i]) {
        models.add(names[i]);
      }
    }
    peakModels = List.copyOf(models);
  }

  // ---- result ----

  private SimResult result(long end) {
    Map<String, Long> loads = new LinkedHashMap<>();
    for (LoadCause c : LoadCause.values()) {
      loads.put(c.wireName(), loadsByCause[c.ordinal()]);
    }
    Map<String, Long> evictions = new LinkedHashMap<>();
    for (EvictionReason r : EvictionReason.values()) {
      evictions.put(r.wireName(), evictionsByReason[r.ordinal()]);
    }
    List<SimResult.ModelResult> models = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      models.add(new SimResult.ModelResult(names[i], modelRequests[i], modelHits[i], modelCold[i], modelLoads[i],
          modelEvictions[i], modelColdWait[i]));
    }
    double mean = end > 0 ? rssIntegral / end : lastRss;
    return new SimResult(estimate, requests, served, rejectedQueue, rejectedTooLarge, rejectedOverContext, hits, cold, peak, peakAt, peakModels,
        mean,
        ramLine, aboveLine, end, loads, evictions, preloadsSkipped, coldWait, latency, queueWait, models,
        timeline.points(end));
  }
}
