package io.mlxcap.cache;

/**
 * Tells the cache core how many bytes a model will take before it is loaded, to make room for it.
 *
 * <p>The server weighs a model by its files; the simulator by the model table. The bytes a load
 * reports when it succeeds replace this estimate.
 */
@FunctionalInterface
public interface Weigher {

  /** Returns the bytes {@code model} is expected to hold once loaded; more than zero. */
  long weigh(String model);
}
