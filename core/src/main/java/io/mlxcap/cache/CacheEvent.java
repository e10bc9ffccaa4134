package io.mlxcap.cache;

import java.util.Locale;
import java.util.Objects;

/**
 * What the cache core decided, in the order it decided it; the shells carry these out and record them.
 *
 * <p>A shell acts on four kinds: {@link Evicted} (unload the model), {@link LoadStarted} (load it),
 * {@link Hit} and {@link Ready} (the request may now use its model), {@link Rejected} (answer the
 * request with an error). The rest say why nothing happened yet, or confirm an outcome the shell
 * reported, so that recording and counting have one source. A shell handles them through
 * {@link CacheActions}, which has one method per kind: a new kind does not compile until every shell
 * says what it does with it.
 */
public sealed interface CacheEvent {

  /** The request id of {@link LoadStarted} when no request caused the load. */
  long NO_REQUEST = -1;

  /** The model this event is about. */
  String model();

  /** Hands this event to the method of {@code actions} for its kind. */
  void applyTo(CacheActions actions);

  /** The request found its model resident and pinned it; it may proceed. */
  record Hit(long requestId, String model) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.hit(this);
    }
  }

  /** The request's model is loading; the request pinned it and waits for {@link Ready}. */
  record Joined(long requestId, String model) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.joined(this);
    }
  }

  /**
   * The request needs room that busy models hold; it waits, unpinned, until room frees up, and will
   * get the events of a fresh request then.
   */
  record Waiting(long requestId, String model, WaitReason reason) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.waiting(this);
    }
  }

  /** The load the request waited for finished; the request may proceed. */
  record Ready(long requestId, String model) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.ready(this);
    }
  }

  /** The request cannot be served; the shell answers it with an error. It holds no pin. */
  record Rejected(long requestId, String model, RejectReason reason, String detail)
      implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.rejected(this);
    }
  }

  /**
   * Load {@code model}, expected to take {@code expectedBytes}; the slot is reserved and the request
   * (or {@link #NO_REQUEST}) that caused it is pinned to it.
   */
  record LoadStarted(String model, long expectedBytes, LoadCause cause, long requestId)
      implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.loadStarted(this);
    }
  }

  /** A load the shell reported as done; the model is resident with {@code bytes}. */
  record LoadFinished(String model, long bytes) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.loadFinished(this);
    }
  }

  /** A load the shell reported as failed; nothing of it remains in the cache. */
  record LoadFailed(String model, String error) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.loadFailed(this);
    }
  }

  /** Unload {@code model}; it held {@code bytes} and no request was using it. */
  record Evicted(String model, long bytes, EvictionReason reason) implements CacheEvent {
    public Evicted {
      Objects.requireNonNull(reason, "reason");
    }

    @Override
    public void applyTo(CacheActions actions) {
      actions.evicted(this);
    }
  }

  /** A preload or manual load that was not started, and why. */
  record LoadSkipped(String model, LoadCause cause, SkipReason reason) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.loadSkipped(this);
    }
  }

  /** A manual unload that was refused, and why. */
  record UnloadRefused(String model, SkipReason reason) implements CacheEvent {
    @Override
    public void applyTo(CacheActions actions) {
      actions.unloadRefused(this);
    }
  }

  /** Why a request waits. */
  enum WaitReason {
    /** The count cap is reached and every cached model is in use or loading. */
    ALL_MODELS_BUSY,
    /** The byte budget cannot be freed: the bytes are held by models in use or loading. */
    BUDGET_BUSY,
    /** Earlier requests already wait for room; requests needing room are served in arrival order. */
    BEHIND_WAITING,
    /** A model that must go before this one may run ({@link ModelGroups}) is in use or loading. */
    GROUP_BUSY;

    /** Returns the name traces use. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Why a request is rejected. */
  enum RejectReason {
    /** The model alone is larger than {@code MLX_MAX_CACHE_BYTES}; it can never be loaded. */
    TOO_LARGE,
    /** The load it waited for failed. */
    LOAD_FAILED,
    /**
     * The shell would not let it ask for its model ({@link io.mlxcap.lifecycle.Lifecycle.Gate}): the
     * model failed to load a moment ago or its files are missing, or the request was cancelled.
     */
    UNAVAILABLE,
    /** As many requests for its model as the policy allows are already admitted (llama-swap's concurrencyLimit: 429). */
    CONCURRENCY_LIMIT;

    /** Returns the name traces use. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Why a manual load or unload, or a preload, did not happen. */
  enum SkipReason {
    /** The model is already cached (load), or not cached (unload). */
    ALREADY_CACHED,
    NOT_CACHED,
    /** The model is loading; it cannot be unloaded until the load ends. */
    LOADING,
    /** A request is using the model. */
    IN_USE,
    /** No room: the cap or budget is held by models in use or loading, or requests already wait for room. */
    NO_ROOM,
    /** The model alone is larger than {@code MLX_MAX_CACHE_BYTES}. */
    TOO_LARGE;

    /** Returns the name traces use. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
