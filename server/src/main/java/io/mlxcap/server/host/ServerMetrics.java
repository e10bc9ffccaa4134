package io.mlxcap.server.host;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The server's Prometheus metrics, in a registry of its own. */
public final class ServerMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  final Gauge residentModels = Gauge.builder().name("mlxcap_resident_models").help("Models resident in the cache").register(registry);
  final Gauge residentBytes = Gauge.builder().name("mlxcap_resident_bytes").help("Bytes of resident models").register(registry);
  final Gauge rssBytes = Gauge.builder().name("mlxcap_process_rss_bytes").help("Resident set size of the server process").register(registry);
  final Gauge waiting = Gauge.builder().name("mlxcap_requests_waiting").help("Requests waiting for a worker").register(registry);
  final Counter loads = Counter.builder().name("mlxcap_loads_total").help("Model loads finished").labelNames("model", "cause").register(registry);
  final Counter loadFailures = Counter.builder().name("mlxcap_load_failures_total").help("Model loads that failed").labelNames("model").register(registry);
  final Counter evictions = Counter.builder().name("mlxcap_evictions_total").help("Models unloaded").labelNames("model", "reason").register(registry);
  final Counter internalErrors = Counter.builder().name("mlxcap_internal_errors_total")
      .help("Failures inside the server that did not stop it: a cleanup tick, carrying out a decision").labelNames("where").register(registry);
  final Counter requests = Counter.builder().name("mlxcap_requests_total").help("Requests finished").labelNames("status").register(registry);
  final Histogram loadDuration = Histogram.builder().name("mlxcap_load_duration_seconds").help("Time to load a model")
      .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120).register(registry);
  final Histogram coldStartWait = Histogram.builder().name("mlxcap_cold_start_wait_seconds")
      .help("Time a request waited for its model to load (requests that did not hit)")
      .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120).register(registry);
  final Histogram latency = Histogram.builder().name("mlxcap_request_latency_seconds").help("Request time from arrival to the end of the answer")
      .classicUpperBounds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120).register(registry);

  /** The metrics in Prometheus text format. */
  public String scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new PrometheusTextFormatWriter(false).write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The content type of {@link #scrape()}. */
  public static String contentType() {
    return new PrometheusTextFormatWriter(false).getContentType();
  }
}
