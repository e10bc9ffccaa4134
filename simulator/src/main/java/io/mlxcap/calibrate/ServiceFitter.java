package io.mlxcap.calibrate;

import io.mlxcap.calibrate.Profile.Figure;
import io.mlxcap.calibrate.Profile.ModelFigures;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;

/** The service terms: each model's prefill and decode rates, the slowdown of shared generations, a cold service's extra. */
final class ServiceFitter implements TermFitter {
  /** A service shared with fewer than this many others on average counts as served alone. */
  static final double ALONE = 1.1;
  /** ... and with at least this many, as shared (the slowdown is fitted on those). */
  static final double SHARED = 1.25;

  /**
   * Service per model and how services slow each other. Per model: seconds = prompt / prefill +
   * output / decode, least squares without intercept. With fewer than 10 warm requests (not the first
   * after their model's load) served beside others (on average at least {@value #SHARED} generations
   * in service, itself included) there is no slowdown to measure: the rates are fitted over the warm
   * requests served alone (3 at least; else over the warm ones; with fewer than 3 warm ones, over
   * all). Otherwise the slowdown ({@link io.mlxcap.sim.ServiceContention}) and the rates are fitted
   * together over every warm request: for each slowdown from 0 to 1 in hundredths, the rates over the
   * warm requests, each one's time divided by 1 + slowdown × the others beside it; the slowdown kept
   * is the one whose model leaves the least sum of squared relative errors. (Fitting the rates on the
   * few requests served alone and the slowdown against them, as before, took the rates from requests
   * that mostly came after idle time, slower on this machine, and then charged the slowdown on top:
   * the matrix's 4-worker services came out 20 to 35 % off.) Then per model what a cold service (one
   * that waited for its model's load) takes beyond its solo time, its share of the slowdown taken off:
   * the mean over its cold requests (3 at least), not the median, because the queue behind them pays
   * for the whole of it.
   */
  @Override
  public void fit(Recording recording, Fitting profile) {
    fit(recording.service, profile.models, profile.host, profile.quality);
  }

  private static void fit(Map<String, List<double[]>> service, Map<String, ModelFigures> models, Map<String, Figure> host,
      List<String> quality) {
    int shared = 0;
    for (List<double[]> all : service.values()) {
      shared += (int) all.stream().filter(r -> r[4] == 0 && r[3] >= SHARED).count();
    }
    // Without 10 shared services there is no slowdown to fit: the rates come from the services alone.
    Map<String, double[]> rates = ratesAt(service, 0, shared < 10);
    double slowdown = 0;
    if (shared >= 10) {
      double best = error(service, rates, 0);
      for (int step = 1; step <= SLOWDOWN_STEPS; step++) {
        double candidate = step / 100.0;
        Map<String, double[]> at = ratesAt(service, candidate, false);
        double e = error(service, at, candidate);
        if (e < best) {
          best = e;
          slowdown = candidate;
          rates = at;
        }
      }
    }
    double s = slowdown;
    Map<String, double[]> fitted = rates;
    service.forEach((model, all) -> {
      double[] rate = fitted.get(model);
      String how = (rate[3] == 1 ? "warm served requests" : "served requests") + ", each over its share of the slowdown: "
          + (rate[2] == 2 ? "service = prompt / prefill + output / decode (least squares, no intercept, both rates scaled so"
              + " that the fitted time adds up to the measured)"
          : rate[2] == 3 ? "service = output / decode, output tokens over service time (the prompt's share too small to measure:"
              + " prefill taken as free)"
          : "(prompt + output tokens) / service time, one rate (too few or too alike for two)");
      ModelFigures before = models.getOrDefault(model, new ModelFigures(null, null, null, null));
      models.put(model, new ModelFigures(before.bytes(), new Figure(rate[0], (int) rate[4], how),
          new Figure(rate[1], (int) rate[4], how), before.kvBytesPerToken()));
      quality.add(String.format(Locale.ROOT, "service       %-30s prefill %.0f, decode %.0f tokens/s from %d %srequests", model, rate[0],
          rate[1], (int) rate[4], rate[3] == 1 ? "warm " : ""));
    });
    host.put("service_slowdown_per_generation", new Figure(slowdown, shared,
        "warm served requests with others in service beside them (on average " + SHARED + " or more, itself included),"
            + " fitted with the rates over all warm requests: the slowdown from 0 to 1 in hundredths whose service"
            + " = solo time x (1 + slowdown x the others beside it) leaves the least squared relative error (0 with fewer than 10)"));
    quality.add(String.format(Locale.ROOT, "contention    each other generation in service adds %.0f %% of a solo service's time, from %d"
        + " requests served beside others", 100 * slowdown, shared));
    service.forEach((model, all) -> {
      double[] rate = fitted.get(model);
      List<Double> extra = new ArrayList<>();
      for (double[] r : all) {
        if (r[4] == 1) {
          extra.add(r[2] / (1 + s * Math.max(0, r[3] - 1)) - solo(r, rate));
        }
      }
      if (extra.size() >= 3) {
        double seconds = Math.round(extra.stream().mapToDouble(Double::doubleValue).average().orElse(0) * 1e4) / 1e4;
        ModelFigures before = models.get(model);
        models.put(model, new ModelFigures(before.bytes(), before.prefillTokensPerSecond(), before.decodeTokensPerSecond(),
            before.kvBytesPerToken(), new Figure(seconds, extra.size(), "requests that waited for this model's load: service"
                + " (its share of the slowdown taken off) minus solo time (mean)")));
        quality.add(String.format(Locale.ROOT, "cold service  %-30s %+.1f ms on the first service after a load, from %d requests",
            model, seconds * 1e3, extra.size()));
      }
    });
  }

  /** The slowdowns tried, in hundredths: 0 to 1 (a generation beside another taking up to twice as long). */
  static final int SLOWDOWN_STEPS = 100;

  /** Each model's rates with {@code slowdown} taken off every row; {@code preferAlone}: fitted on services alone when 3. */
  private static Map<String, double[]> ratesAt(Map<String, List<double[]>> service, double slowdown, boolean preferAlone) {
    Map<String, double[]> rates = new LinkedHashMap<>();
    service.forEach((model, all) -> rates.put(model, fitRates(all, slowdown, preferAlone)));
    return rates;
  }

  /** How far the service model is from the warm services: the sum of each one's squared relative error. */
  private static double error(Map<String, List<double[]>> service, Map<String, double[]> rates, double slowdown) {
    double sum = 0;
    for (Map.Entry<String, List<double[]>> e : service.entrySet()) {
      double[] rate = rates.get(e.getKey());
      for (double[] r : e.getValue()) {
        if (r[4] == 0 && r[2] > 0) {
          double predicted = solo(r, rate) * (1 + slowdown * Math.max(0, r[3] - 1));
          sum += Math.pow((predicted - r[2]) / r[2], 2);
        }
      }
    }
    return sum;
  }

  /**
   * {prefill, decode, 2 for two rates or 1 for one, 1 when fitted on warm requests, how many} for one
   * model's service rows, each row's time divided by 1 + {@code slowdown} × the others beside it.
   */
  private static double[] fitRates(List<double[]> all, double slowdown, boolean preferAlone) {
    List<double[]> warm = all.stream().filter(r -> r[4] == 0).toList();
    List<double[]> alone = warm.stream().filter(r -> r[3] < ALONE).toList();
    List<double[]> rows = preferAlone && alone.size() >= 3 ? alone : warm.size() >= 3 ? warm : all;
    double[] y = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      y[i] = rows.get(i)[2] / (1 + slowdown * Math.max(0, rows.get(i)[3] - 1));
    }
    if (rows.size() >= 3) {
      double[][] x = new double[rows.size()][];
      for (int i = 0; i < rows.size(); i++) {
        x[i] = new double[] {rows.get(i)[0], rows.get(i)[1]};
      }
      try {
        OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
        ols.setNoIntercept(true);
        ols.newSampleData(y, x);
        double[] b = ols.estimateRegressionParameters();
        if (b[0] > 0 && b[1] > 0) {
          // Without an intercept the residuals need not sum to 0: scale both rates so that the rows'
          // predicted time adds up to their measured time (a queue behind them pays for the total).
          double predicted = 0;
          double measured = 0;
          for (int i = 0; i < rows.size(); i++) {
            predicted += b[0] * rows.get(i)[0] + b[1] * rows.get(i)[1];
            measured += y[i];
          }
          double scale = predicted > 0 ? measured / predicted : 1;
          return new double[] {round(1 / (b[0] * scale)), round(1 / (b[1] * scale)), 2, rows == all ? 0 : 1, rows.size()};
        }
      } catch (RuntimeException singular) {
        // prompts or outputs all alike: below
      }
      // The prompt's share too small to tell from the noise (its slope came out 0 or less): the output
      // alone, and the prompt as good as free; a single rate over all tokens would charge a long
      // prompt as if each of its tokens were generated.
      double xy = 0;
      double xx = 0;
      double measured = 0;
      for (int i = 0; i < rows.size(); i++) {
        xy += rows.get(i)[1] * y[i];
        xx += rows.get(i)[1] * rows.get(i)[1];
        measured += y[i];
      }
      double outputs = rows.stream().mapToDouble(r -> r[1]).sum();
      if (xx > 0 && xy > 0 && outputs > 0) {
        return new double[] {PROMPT_FREE, round(outputs / measured), 3, rows == all ? 0 : 1, rows.size()};
      }
    }
    double seconds = java.util.Arrays.stream(y).sum();
    double tokens = rows.stream().mapToDouble(r -> r[0] + r[1]).sum();
    double rate = round(tokens / Math.max(seconds, 1e-9));
    return new double[] {rate, rate, 1, rows == all ? 0 : 1, rows.size()};
  }

  /** The prefill rate of a model whose prompts cost too little to measure. */
  static final double PROMPT_FREE = 1e9;

  /** A service row's solo time at {@code rate} (prefill, decode). */
  private static double solo(double[] row, double[] rate) {
    return row[0] / rate[0] + row[1] / rate[1];
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
