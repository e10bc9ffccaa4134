package io.mlxcap.calibrate;

import io.mlxcap.ByteSize;
import io.mlxcap.InvalidInputException;
import io.mlxcap.calibrate.Profile.Figure;
import io.mlxcap.calibrate.Profile.ModelFigures;
import io.mlxcap.calibrate.TermFitter.Fitting;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Fits a {@link Profile} from what a server recorded: its {@code load} lines (load time against
 * bytes), its {@code memory} samples against the models resident when each was taken (the runtime's
 * base, what each load leaves behind, what a load holds while it runs), and its served requests
 * (each model's prefill and decode rates). Pure: a trace in, a profile and the fits' quality out.
 *
 * <p>The recordings are read once ({@link Recording}); then each term of the profile is fitted by its
 * own {@link TermFitter}, in {@link #TERMS}' order: the host's RAM and other use, load time
 * ({@link LoadTimeFitter}), the memory line ({@link MemoryLineFitter}), each model's bytes, service
 * ({@link ServiceFitter}), and working memory per token.
 */
public final class Calibration {
  /** The profile, and lines for people saying how good each fit is. */
  public record Result(Profile profile, List<String> quality) {}

  private Calibration() {}

  /**
   * Fits {@code trace}.
   *
   * @throws InvalidInputException when the trace has nothing to fit (no loads or no memory samples)
   */
  public static Result fit(Path trace) {
    return fit(List.of(trace));
  }

  /**
   * Fits the recordings {@code traces} together, each a process of its own (its own warm-up, its own
   * loads so far): one profile from more loads, samples and requests than one run has. The host's
   * RAM is the first recording's.
   *
   * @throws InvalidInputException when one has nothing to fit (no loads or no memory samples)
   */
  public static Result fit(List<Path> traces) {
    Recording recording = Recording.read(traces);
    Fitting profile = new Fitting();
    for (TermFitter term : TERMS) {
      term.fit(recording, profile);
    }
    return new Result(Profile.of(profile.host, profile.spread, profile.models, recording.source), profile.quality);
  }

  /** The profile's terms, in the order they are fitted (and their figures and lines are listed). */
  static final List<TermFitter> TERMS = List.of(Calibration::hostMemory, new LoadTimeFitter(), new MemoryLineFitter(),
      Calibration::modelBytes, new ServiceFitter(), Calibration::workingMemory);

  /** The host's RAM (the header's) and what else used it (the samples' host use beyond the RSS, median). */
  private static void hostMemory(Recording recording, Fitting profile) {
    long ram = recording.header.hostRamBytes();
    profile.host.put("ram_bytes", new Figure(ram, ram > 0 ? 1 : 0, "the trace header's host RAM"));
    if (!recording.other.isEmpty()) {
      profile.host.put("other_bytes", new Figure(Stats.median(recording.other), recording.other.size(),
          "memory samples: host RAM in use minus the server's RSS (median)"));
    }
  }

  /** Each model's resident bytes: the median of what its loads reported. */
  private static void modelBytes(Recording recording, Fitting profile) {
    recording.bytesByModel.forEach((model, bytes) -> profile.models.put(model, new ModelFigures(
        new Figure(Stats.median(bytes), bytes.size(), "load lines: the bytes the server reported (median)"), null, null, null)));
  }

  /**
   * Each model's working memory per token of context: samples taken while no load ran and one request
   * of the model was served, what they held beyond the memory line, over its prompt + output tokens
   * (median).
   */
  private static void workingMemory(Recording recording, Fitting profile) {
    Map<String, List<Double>> perToken = new java.util.LinkedHashMap<>();
    for (int i = 0; i < recording.memory.size(); i++) {
      double[] m = recording.memory.get(i);
      Recording.Serving s = recording.during.get(i);
      if (m[4] == 0 && s != null && s != Recording.Serving.MANY && s.tokens() > 0) {
        perToken.computeIfAbsent(s.model(), k -> new ArrayList<>())
            .add(Math.max(0, (m[0] - profile.base - profile.growth * m[1]) / s.tokens()));
      }
    }
    perToken.forEach((model, values) -> {
      ModelFigures before = profile.model(model);
      double kv = Math.round(Stats.medianOf(values));
      profile.models.put(model, new ModelFigures(before.bytes(), before.prefillTokensPerSecond(), before.decodeTokensPerSecond(),
          new Figure(kv, values.size(), "memory samples taken while one request of this model was served: what they held beyond"
              + " the line, over its prompt + output tokens (median)"), before.coldServiceExtraSeconds()));
      profile.quality.add(String.format(Locale.ROOT, "working mem.  %-30s %s per token of context, from %d samples", model,
          ByteSize.format(Math.round(kv)), values.size()));
    });
  }
}
