package io.mlxcap.server.host;

import io.mlxcap.server.model.LoadedModel;
import java.util.concurrent.CompletableFuture;

/** A request between arrival and the end of its answer, as the host tracks it (fields written under the host's lock). */
final class Pending {
  /** A time not reached yet: no worker, or no model ready. */
  static final long NOT_READY = Long.MIN_VALUE;

  final long id;
  final String traceId;
  final String model;
  final long keepAlive;
  /** Completed when its model is ready (with the model), or exceptionally when it cannot be served or is cancelled. */
  final CompletableFuture<LoadedModel> ready = new CompletableFuture<>();
  long arrival;
  long workerStart = NOT_READY;
  /** The time of the decision that made its model ready (Hit or Ready): its service counts from there. */
  long readyAt = NOT_READY;
  boolean inCache;
  boolean hit = true;
  /** Recorded as done already (the core rejected it); nothing is left to release. */
  boolean done;
  /** Why the lifecycle's gate refused it, for its answer. */
  HostException refusal;
  volatile boolean cancelled;

  Pending(long id, String model, long keepAlive) {
    this.id = id;
    this.traceId = "r" + id;
    this.model = model;
    this.keepAlive = keepAlive;
  }
}
