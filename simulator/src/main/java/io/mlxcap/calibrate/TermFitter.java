package io.mlxcap.calibrate;

import io.mlxcap.calibrate.Profile.Figure;
import io.mlxcap.calibrate.Profile.ModelFigures;
import io.mlxcap.sim.LoadSpread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One term of a host profile, fitted from a {@link Recording}: it adds its figures (host or per model)
 * and its quality lines to the profile being made. {@link Calibration} runs the terms in order; a
 * term that needs another's result (working memory stands on the memory line) reads it from the
 * profile being made.
 */
interface TermFitter {
  void fit(Recording recording, Fitting profile);

  /** A profile being made: its figures in the order they were fitted, and its quality lines. */
  final class Fitting {
    final Map<String, Figure> host = new LinkedHashMap<>();
    final Map<String, ModelFigures> models = new LinkedHashMap<>();
    final List<String> quality = new ArrayList<>();
    /** The load-time spread ({@link LoadTimeFitter}). */
    LoadSpread spread;
    /** RSS − resident bytes = base + growth × loads so far ({@link MemoryLineFitter}), unrounded. */
    double base;
    double growth;

    /** What {@code model} has measured so far (all null when nothing). */
    ModelFigures model(String name) {
      return models.getOrDefault(name, new ModelFigures(null, null, null, null));
    }
  }
}
