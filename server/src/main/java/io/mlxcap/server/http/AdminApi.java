package io.mlxcap.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.host.ServerMetrics;
import java.time.Duration;
import java.util.Map;

/**
 * The operator's endpoints: {@code GET /admin/cache} (what the cache holds), loading and unloading a
 * model by hand, {@code GET /health} and {@code GET /metrics} (Prometheus text).
 */
final class AdminApi {
  private final ModelHost host;

  AdminApi(ModelHost host) {
    this.host = host;
  }

  /** {@code GET /health}: liveness, the one endpoint that needs no API key. */
  void health(Context ctx) {
    ctx.json(Map.of("status", "ok"));
  }

  /** {@code GET /metrics}. */
  void metrics(Context ctx) {
    ctx.contentType(ServerMetrics.contentType()).result(host.scrapeMetrics());
  }

  /** {@code POST /admin/models/{model}/load}: 202 while it loads, 200 when it was cached. */
  void load(Context ctx) {
    ModelSpec spec = host.resolve(ctx.pathParam("model"));
    String status = host.load(spec.name(), LoadCause.MANUAL);
    ctx.status(status.equals("loading") ? 202 : 200).json(Map.of("model", spec.name(), "status", status));
  }

  /** {@code POST /admin/models/{model}/unload}: 409 while it is busy or loading. */
  void unload(Context ctx) {
    ModelSpec spec = host.resolve(ctx.pathParam("model"));
    ctx.json(Map.of("model", spec.name(), "status", host.unload(spec.name())));
  }

  /** {@code GET /admin/cache}: models, bytes, pins and idle time; the queue; the settings in force. */
  void cache(Context ctx) {
    ModelHost.Snapshot s = host.snapshot();
    ObjectNode out = Body.JSON.createObjectNode();
    ArrayNode models = out.putArray("models");
    for (CachedModel c : s.models()) {
      ObjectNode m = models.addObject();
      m.put("model", c.model());
      m.put("state", c.loading() ? "loading" : "resident");
      m.put("bytes", c.bytes());
      m.put("pins", c.pins());
      m.put("idle_s", c.pins() > 0 ? 0 : Duration.ofNanos(Math.max(0, s.nowNanos() - c.idleSinceNanos())).toMillis() / 1000.0);
    }
    out.put("resident_bytes", s.residentBytes());
    out.put("waiting_for_room", s.waitingForRoom());
    out.put("queued", s.queued());
    out.put("busy_workers", s.busyWorkers());
    ObjectNode settings = out.putObject("settings");
    host.settings().toEnv().forEach(settings::put);
    ctx.json(out);
  }
}
