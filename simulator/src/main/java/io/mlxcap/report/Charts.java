package io.mlxcap.report;

import io.mlxcap.sim.LogHistogram;
import io.mlxcap.sim.LruCurve;
import io.mlxcap.sim.MemoryTimeline;
import io.mlxcap.sim.Prediction;
import io.mlxcap.sim.SimResult;
import io.mlxcap.sweep.Row;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's charts, drawn with XChart as PNG bytes: readable axes with units, legends that name
 * what is drawn, and titles that say what the chart shows.
 */
public final class Charts {
  static final int WIDTH = 1000;
  static final int HEIGHT = 520;
  /** Colours for the featured configurations, in order: old settings, the fix, the recommendation. */
  static final Color[] PALETTE = {new Color(0xC0392B), new Color(0x7F8C8D), new Color(0x1F6FB2), new Color(0x27AE60),
      new Color(0x8E44AD), new Color(0xD68910)};

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  /** A configuration drawn on a chart: its name and its full prediction. */
  public record Featured(String name, Prediction prediction) {}

  /** A stretch of time a model was loading or resident. */
  public record Residence(String model, long fromNanos, long toNanos) {}

  /** The unit a time axis is drawn in, chosen from the span. */
  record TimeUnit(String name, double nanos) {
    static TimeUnit forSpan(long spanNanos) {
      if (spanNanos > 3 * 3_600e9) {
        return new TimeUnit("hours", 3_600e9);
      }
      if (spanNanos > 3 * 60e9) {
        return new TimeUnit("minutes", 60e9);
      }
      return new TimeUnit("seconds", 1e9);
    }
  }

  private static XYChart chart(String title, String x, String y) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
    style(chart);
    return chart;
  }

  private static void style(XYChart chart) {
    Styler s = chart.getStyler();
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
    s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    s.setLegendPosition(Styler.LegendPosition.InsideNW);
    s.setLegendBorderColor(new Color(0xCCCCCC));
    s.setAntiAlias(true);
    chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    chart.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    chart.getStyler().setPlotGridLinesColor(new Color(0xE5E8EC));
    chart.getStyler().setChartTitleBoxVisible(false);
    chart.getStyler().setPlotBorderVisible(false);
  }

  static byte[] png(XYChart chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot draw the chart '" + chart.getTitle() + "': " + e.getMessage(), e);
    }
  }

  static double gb(double bytes) {
    return bytes / 1e9;
  }

  private static Color faded(Color c) {
    return new Color(c.getRed(), c.getGreen(), c.getBlue(), 90);
  }

  /**
   * 1. RSS over time, one panel per featured configuration on a shared scale: the expected pass,
   * the low–high band, and the RAM line.
   */
  public static byte[] rssOverTime(List<Featured> featured, long ramLine) {
    long span = featured.stream().mapToLong(f -> f.prediction().expected().endNanos()).max().orElse(1);
    TimeUnit unit = TimeUnit.forSpan(span);
    double top = gb(ramLine);
    for (Featured f : featured) {
      top = Math.max(top, gb(f.prediction().high().peakRssBytes()));
    }
    double yMax = Math.ceil(top * 1.1 / 10) * 10;
    List<XYChart> panels = new ArrayList<>();
    for (int i = 0; i < featured.size(); i++) {
      Featured f = featured.get(i);
      Prediction p = f.prediction();
      Color color = PALETTE[i % PALETTE.length];
      boolean band = p.low() != p.high();
      String title = String.format(Locale.ROOT, "%s: peak %.1f GB expected%s, mean %.1f GB", f.name(),
          gb(p.expected().peakRssBytes()), band ? String.format(Locale.ROOT, " (%.1f–%.1f)", gb(p.low().peakRssBytes()),
              gb(p.high().peakRssBytes())) : "", gb(p.expected().meanRssBytes()));
      XYChart chart = new XYChartBuilder().width(WIDTH).height(300).title(title)
          .xAxisTitle(i == featured.size() - 1 ? "trace time (" + unit.name() + ")" : "").yAxisTitle("RSS (GB)").build();
      style(chart);
      chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
      if (band) {
        addTimeline(chart, "high end of model sizes", p.high(), unit, faded(color), 1.2f, true);
        addTimeline(chart, "low end", p.low(), unit, faded(color), 1.2f, false);
      }
      addTimeline(chart, "expected", p.expected(), unit, color, 2f, true);
      XYSeries line = chart.addSeries(String.format(Locale.ROOT, "RAM line %.1f GB", gb(ramLine)),
          new double[] {0, span / unit.nanos()}, new double[] {gb(ramLine), gb(ramLine)});
      line.setMarker(SeriesMarkers.NONE);
      line.setLineColor(Color.BLACK);
      line.setLineStyle(DASHED);
      chart.getStyler().setYAxisMin(0.0);
      chart.getStyler().setYAxisMax(yMax);
      chart.getStyler().setXAxisMin(0.0);
      chart.getStyler().setXAxisMax(span / unit.nanos());
      panels.add(chart);
    }
    return stack(panels, 1);
  }

  static final BasicStroke DASHED =
      new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f);

  /** Draws {@code charts} into one PNG, {@code columns} to a row. */
  static byte[] stack(List<XYChart> charts, int columns) {
    int rows = (charts.size() + columns - 1) / columns;
    int w = 0;
    int h = 0;
    List<java.awt.image.BufferedImage> images = new ArrayList<>();
    for (XYChart c : charts) {
      java.awt.image.BufferedImage image = BitmapEncoder.getBufferedImage(c);
      images.add(image);
      w = Math.max(w, image.getWidth());
      h = Math.max(h, image.getHeight());
    }
    java.awt.image.BufferedImage all = new java.awt.image.BufferedImage(w * columns, h * rows,
        java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = all.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, all.getWidth(), all.getHeight());
    for (int i = 0; i < images.size(); i++) {
      g.drawImage(images.get(i), (i % columns) * w, (i / columns) * h, null);
    }
    g.dispose();
    try {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      javax.imageio.ImageIO.write(all, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot draw a chart: " + e.getMessage(), e);
    }
  }

  private static void addTimeline(XYChart chart, String name, SimResult pass, TimeUnit unit, Color color, float width,
      boolean legend) {
    List<MemoryTimeline.Point> points = pass.timeline();
    double[] x = new double[points.size()];
    double[] y = new double[points.size()];
    for (int i = 0; i < points.size(); i++) {
      x[i] = points.get(i).timeNanos() / unit.nanos();
      y[i] = gb(points.get(i).rssBytes());
    }
    XYSeries s = chart.addSeries(name, x, y);
    s.setXYSeriesRenderStyle(XYSeriesRenderStyle.Step);
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(color);
    s.setLineWidth(width);
    s.setShowInLegend(legend);
  }

  /**
   * 2. Every configuration's peak RSS (high) against its cold-start p95 and against its cold starts
   * per hour, side by side, each with its Pareto front drawn and the recommendation marked.
   */
  public static byte[] pareto(List<Row> rows, boolean[] frontP95, boolean[] frontColdStarts, Row recommended,
      long budget) {
    XYChart p95 = paretoPanel("Peak RSS vs cold-start wait p95", "cold-start wait p95 (s)", rows, frontP95,
        r -> r.coldP95() / 1e9, recommended, budget);
    XYChart perHour = paretoPanel("Peak RSS vs cold starts per hour", "cold starts per hour", rows, frontColdStarts,
        Row::coldStartsPerHour, recommended, budget);
    return stack(List.of(p95, perHour), 2);
  }

  private static XYChart paretoPanel(String title, String yTitle, List<Row> rows, boolean[] front,
      java.util.function.ToDoubleFunction<Row> y, Row recommended, long budget) {
    XYChart chart = new XYChartBuilder().width(640).height(520).title(title).xAxisTitle("peak RSS, high bound (GB)")
        .yAxisTitle(yTitle).build();
    style(chart);
    chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    List<Double> sx = new ArrayList<>();
    List<Double> sy = new ArrayList<>();
    List<Double> rx = new ArrayList<>();
    List<Double> ry = new ArrayList<>();
    List<double[]> frontPoints = new ArrayList<>();
    double maxX = gb(budget);
    double maxY = 0;
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      double x = gb(r.peak().high());
      double v = y.applyAsDouble(r);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, v);
      if (front[i]) {
        frontPoints.add(new double[] {x, v});
      }
      (r.refused() > 0 ? rx : sx).add(x);
      (r.refused() > 0 ? ry : sy).add(v);
    }
    if (!sx.isEmpty()) {
      scatter(chart, "a configuration", sx, sy, new Color(0x9AA3B0), SeriesMarkers.CIRCLE);
    }
    if (!rx.isEmpty()) {
      scatter(chart, "one that refuses requests", rx, ry, new Color(0xD68910), SeriesMarkers.TRIANGLE_UP);
    }
    frontPoints.sort(java.util.Comparator.comparingDouble((double[] p) -> p[0]).thenComparingDouble(p -> p[1]));
    XYSeries f = chart.addSeries("Pareto front", frontPoints.stream().map(p -> p[0]).toList(),
        frontPoints.stream().map(p -> p[1]).toList());
    f.setXYSeriesRenderStyle(XYSeriesRenderStyle.Step);
    f.setMarker(SeriesMarkers.CIRCLE);
    f.setMarkerColor(PALETTE[2]);
    f.setLineColor(PALETTE[2]);
    f.setLineWidth(2f);
    if (recommended != null) {
      scatter(chart, "recommended", List.of(gb(recommended.peak().high())), List.of(y.applyAsDouble(recommended)),
          PALETTE[3], SeriesMarkers.DIAMOND);
    }
    double yTop = maxY <= 0 ? 1 : maxY * 1.7; // room above the points for the legend
    XYSeries budgetLine = chart.addSeries(String.format(Locale.ROOT, "budget %.1f GB", gb(budget)),
        new double[] {gb(budget), gb(budget)}, new double[] {0, yTop});
    budgetLine.setMarker(SeriesMarkers.NONE);
    budgetLine.setLineColor(Color.BLACK);
    budgetLine.setLineStyle(DASHED);
    chart.getStyler().setMarkerSize(10);
    chart.getStyler().setXAxisMin(0.0);
    chart.getStyler().setXAxisMax(Math.ceil(maxX * 1.08 / 10) * 10);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setYAxisMax(yTop);
    return chart;
  }

  private static void scatter(XYChart chart, String name, List<Double> x, List<Double> y, Color color,
      org.knowm.xchart.style.markers.Marker marker) {
    XYSeries s = chart.addSeries(name, x, y);
    s.setXYSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
    s.setMarker(marker);
    s.setMarkerColor(color);
  }

  /** 3. The share of cold starts that waited at most x, for each featured configuration. */
  public static byte[] coldStartCdf(List<Featured> featured) {
    XYChart chart = chart("Cold-start waits: share of cold requests that waited at most this long",
        "wait for the model to load (s)", "share of cold starts");
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    double maxX = 0;
    for (int i = 0; i < featured.size(); i++) {
      Featured f = featured.get(i);
      LogHistogram h = f.prediction().expected().coldWait();
      if (h.count() == 0) {
        continue;
      }
      // The CDF as explicit steps: one rise at every distinct wait (a Step series confuses XChart's y ticks).
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      x.add(0.0);
      y.add(0.0);
      double shown = 0;
      int steps = 400;
      for (int k = 1; k <= steps; k++) {
        double wait = h.quantile(k / (double) steps) / 1e9;
        double share = k / (double) steps;
        boolean last = k == steps || h.quantile((k + 1) / (double) steps) / 1e9 != wait;
        if (last) {
          x.add(wait);
          y.add(shown);
          x.add(wait);
          y.add(share);
          shown = share;
        }
      }
      maxX = Math.max(maxX, h.max() / 1e9);
      XYSeries s = chart.addSeries(String.format(Locale.ROOT, "%s — %,d cold start%s", f.name(), h.count(),
          h.count() == 1 ? "" : "s"), x, y);
      s.setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
      s.setMarker(SeriesMarkers.NONE);
      s.setLineColor(PALETTE[i % PALETTE.length]);
      s.setLineWidth(2.2f);
    }
    if (chart.getSeriesMap().isEmpty()) {
      XYSeries none = chart.addSeries("no cold starts in these configurations", new double[] {0}, new double[] {1});
      none.setMarker(SeriesMarkers.NONE);
    }
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setYAxisMax(1.0);
    chart.getStyler().setYAxisDecimalPattern("0%");
    chart.getStyler().setXAxisMin(0.0);
    chart.getStyler().setXAxisMax(Math.max(1, Math.ceil(maxX * 1.05)));
    return png(chart);
  }

  /** 4. Loads at every MLX_MAX_CACHED_MODELS, from the one-pass LRU curve. */
  public static byte[] loadsVersusCap(LruCurve.Result curve, String preload) {
    XYChart chart = chart("Loads vs MLX_MAX_CACHED_MODELS (count-LRU, one worker; preload " + preload + ")",
        "MLX_MAX_CACHED_MODELS", "model loads over the trace");
    int max = curve.maxCap();
    double[] x = new double[max];
    double[] y = new double[max];
    for (int cap = 1; cap <= max; cap++) {
      x[cap - 1] = cap;
      y[cap - 1] = curve.loadsAt(cap);
    }
    XYSeries s = chart.addSeries("loads (one pass over LRU stack distances)", x, y);
    s.setMarker(SeriesMarkers.CIRCLE);
    s.setLineColor(PALETTE[2]);
    s.setMarkerColor(PALETTE[2]);
    s.setLineWidth(2.2f);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setXAxisDecimalPattern("0");
    chart.getStyler().setXAxisMin(0.5);
    chart.getStyler().setXAxisMax(max + 0.5);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setXAxisMaxLabelCount(Math.min(max, 20));
    for (int cap = 1; cap <= max; cap++) {
      if (max <= 12) {
        chart.addAnnotation(new AnnotationText(String.format(Locale.ROOT, "%,d", curve.loadsAt(cap)), cap + 0.08,
            curve.loadsAt(cap) + Math.max(1, y[0]) * 0.04, false));
      }
    }
    return png(chart);
  }

  /** 5. Which model was loading or resident when, under one configuration. */
  public static byte[] residency(String name, List<String> models, List<Residence> stays, long spanNanos) {
    TimeUnit unit = TimeUnit.forSpan(spanNanos);
    XYChart chart = chart("Which models were in memory when: " + name, "trace time (" + unit.name() + ")",
        "one row per model, top to bottom as in the legend");
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setYAxisTicksVisible(false);
    java.util.Set<String> seen = new java.util.HashSet<>();
    stays.forEach(r -> seen.add(r.model()));
    models = models.stream().filter(seen::contains).toList();
    if (models.size() > 30) {
      chart.getStyler().setLegendVisible(false);
      chart.setTitle(chart.getTitle() + " (" + models.size() + " models, one row each)");
    }
    int n = models.size();
    chart.getStyler().setYAxisMin(-0.7);
    chart.getStyler().setYAxisMax(n - 0.3);
    chart.getStyler().setXAxisMin(0.0);
    chart.getStyler().setXAxisMax(spanNanos / unit.nanos());
    for (int m = 0; m < n; m++) {
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      double level = n - 1 - m;
      for (Residence r : stays) {
        if (r.model().equals(models.get(m))) {
          x.add(r.fromNanos() / unit.nanos());
          y.add(level);
          x.add(r.toNanos() / unit.nanos());
          y.add(level);
          x.add(r.toNanos() / unit.nanos());
          y.add(null);
        }
      }
      if (x.isEmpty()) {
        x.add(0.0);
        y.add(null);
      }
      XYSeries s = chart.addSeries(models.get(m), x, y);
      s.setMarker(SeriesMarkers.NONE);
      s.setLineColor(PALETTE[m % PALETTE.length]);
      s.setLineStyle(new BasicStroke(Math.max(3f, Math.min(22f, 300f / Math.max(1, n))), BasicStroke.CAP_BUTT,
          BasicStroke.JOIN_MITER));
    }
    return png(chart);
  }

}
