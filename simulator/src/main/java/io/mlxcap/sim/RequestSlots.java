package io.mlxcap.sim;

import io.mlxcap.lifecycle.Lifecycle;
import java.util.Arrays;

/**
 * The requests in a simulation's system, one slot each: a structure of arrays with a named accessor
 * per field, so the event loop reads as the lifecycle it models while a request costs no object. A
 * slot is the request's id in the cache and the dispatcher, taken on arrival and freed when the
 * request leaves (served, or refused); freed slots are reused first (last freed, first reused), and
 * the arrays grow with the requests in the system, not with MLX_MAX_QUEUE (which may be 2^31 - 1).
 *
 * <p>It is also what the {@link Lifecycle} reads of a request (its model, its keep-alive) and where it
 * says a request got its worker.
 */
final class RequestSlots implements Lifecycle.Requests {
  private final String[] modelNames;
  private long[] arrivalAt = new long[16];
  private int[] model = new int[16];
  private long[] promptTokens = new long[16];
  private long[] outputTokens = new long[16];
  private long[] recordedService = new long[16];
  /** The keep-alive each request asked for, or ModelCache.KEEP_ALIVE_DEFAULT. */
  private long[] keepAlive = new long[16];
  private long[] workerStart = new long[16];
  /** True from getting a worker until the request had to wait for its model (a join, a load, no room). */
  private boolean[] hit = new boolean[16];
  /** The working memory the request holds while in service. */
  private long[] kvBytes = new long[16];
  private int[] freeSlots = new int[16];
  private int freeCount;
  private int slotsUsed;
  private int inSystem;

  /** Slots for requests for the models named {@code modelNames}, by index. */
  RequestSlots(String[] modelNames) {
    this.modelNames = modelNames;
  }

  /** A slot for a request arriving at {@code now} for model {@code modelIndex}, with what its trace line says. */
  int arrive(long now, int modelIndex, long prompt, long output, long serviceNanos) {
    int slot = freeCount > 0 ? freeSlots[--freeCount] : newSlot();
    inSystem++;
    arrivalAt[slot] = now;
    model[slot] = modelIndex;
    promptTokens[slot] = prompt;
    outputTokens[slot] = output;
    recordedService[slot] = serviceNanos;
    return slot;
  }

  /** The request in {@code slot} has left the system: its slot is free. */
  void free(int slot) {
    freeSlots[freeCount++] = slot;
    inSystem--;
  }

  /** Requests in the system now: queued, waiting for a model, or in service. */
  int inSystem() {
    return inSystem;
  }

  private int newSlot() {
    if (slotsUsed == arrivalAt.length) {
      int n = arrivalAt.length * 2;
      arrivalAt = Arrays.copyOf(arrivalAt, n);
      model = Arrays.copyOf(model, n);
      promptTokens = Arrays.copyOf(promptTokens, n);
      outputTokens = Arrays.copyOf(outputTokens, n);
      recordedService = Arrays.copyOf(recordedService, n);
      keepAlive = Arrays.copyOf(keepAlive, n);
      workerStart = Arrays.copyOf(workerStart, n);
      hit = Arrays.copyOf(hit, n);
      kvBytes = Arrays.copyOf(kvBytes, n);
      freeSlots = Arrays.copyOf(freeSlots, n);
    }
    return slotsUsed++;
  }

  long arrivalAt(int slot) {
    return arrivalAt[slot];
  }

  int model(int slot) {
    return model[slot];
  }

  long promptTokens(int slot) {
    return promptTokens[slot];
  }

  long outputTokens(int slot) {
    return outputTokens[slot];
  }

  /** The service time its trace line recorded, or TraceEvent.UNKNOWN. */
  long recordedService(int slot) {
    return recordedService[slot];
  }

  void keepAlive(int slot, long nanos) {
    keepAlive[slot] = nanos;
  }

  long workerStart(int slot) {
    return workerStart[slot];
  }

  /** True when the request found its model resident the moment it got a worker. */
  boolean hit(int slot) {
    return hit[slot];
  }

  /** The request has to wait for its model: it joined a load, started one, or waits for room. */
  void missed(int slot) {
    hit[slot] = false;
  }

  long kvBytes(int slot) {
    return kvBytes[slot];
  }

  void kvBytes(int slot, long bytes) {
    kvBytes[slot] = bytes;
  }

  // ---- what the lifecycle reads ----

  @Override
  public String model(long id) {
    return modelNames[model[(int) id]];
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
}
