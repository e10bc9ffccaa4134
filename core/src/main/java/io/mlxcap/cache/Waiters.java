package io.mlxcap.cache;

/** How requests that wait for room are served when room frees up. */
public enum Waiters {
  /**
   * In arrival order: one that still cannot get room blocks those behind it that need room too, and a
   * new request that needs room queues behind them, so a large model is not starved by small ones
   * (mlx, Ollama, llama.cpp's router, LM Studio).
   */
  IN_ORDER,
  /**
   * Each on its own: every waiter that can start does, past those still blocked, and a new request
   * needing room tries at once. llama-swap's FIFO scheduler: {@code drainQueue} promotes every queued
   * request that no longer collides and leaves the blocked ones in place, and {@code OnRequest} starts
   * a swap without looking at the queue ({@code internal/router/scheduler/fifo.go} at
   * mostlygeek/llama-swap@0bdb372).
   */
  EACH_ON_ITS_OWN
}
