package io.mlxcap.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.mlxcap.cache.CachePolicy;
import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.server.host.HostException;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.host.ServerMetrics;
import io.mlxcap.server.model.LoadedModel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API over a {@link ModelHost}: OpenAI- and Ollama-compatible endpoints, admin, health and
 * metrics. Binds 127.0.0.1 unless told otherwise; with an API key, every endpoint but /health wants
 * {@code Authorization: Bearer <key>}. Errors are JSON in each API's own shape, one sentence each.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  /** The most output tokens one request may ask for. */
  static final int MAX_TOKENS_LIMIT = 4096;

  /** Where and how to listen. */
  public record Options(String bindHost, int port, String apiKey, long maxBodyBytes) {}

  private final ModelHost host;
  private final Options options;
  private final Javalin app;

  public ApiServer(ModelHost host, Options options) {
    this.host = host;
    this.options = options;
    this.app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.http.disableCompression();
      config.http.maxRequestSize = options.maxBodyBytes();
      config.jetty.defaultHost = options.bindHost();
      // Waiting requests each hold a thread: room for every worker and every queued request, plus
      // some for admin, health and metrics, so MLX_MAX_QUEUE and not Jetty decides when to refuse.
      int threads = host.settings().maxConcurrentRequests() + host.settings().maxQueue() + 32;
      org.eclipse.jetty.util.thread.QueuedThreadPool pool = new org.eclipse.jetty.util.thread.QueuedThreadPool(threads, 8);
      pool.setName("mlxcap-http");
      config.jetty.threadPool = pool;
      config.startupWatcherEnabled = false;
    });
    routes();
  }

  /** Starts listening; returns the port (useful with port 0). */
  public int start() {
    app.start(options.bindHost(), options.port());
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
  }

  private void routes() {
    app.before(ctx -> {
      if (options.apiKey() != null && !ctx.path().equals("/health")) {
        String header = ctx.header("Authorization");
        byte[] expected = ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (header == null || !java.security.MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expected)) {
          throw new BadRequest(401, "a valid API key is required: send Authorization: Bearer <MLX_API_KEY>");
        }
      }
    });
    app.exception(BadRequest.class, (e, ctx) -> error(ctx, e.status, e.getMessage()));
    app.exception(HostException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
    app.exception(Exception.class, (e, ctx) -> {
      LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
      error(ctx, 500, "internal error: " + e);
    });
    app.error(404, ctx -> {
      if (ctx.result() == null || ctx.result().isEmpty()) {
        error(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path());
      }
    });

    app.get("/health", ctx -> ctx.json(java.util.Map.of("status", "ok")));
    app.get("/metrics", ctx -> ctx.contentType(ServerMetrics.contentType()).result(host.metrics().scrape()));

    app.post("/v1/chat/completions", ctx -> openAi(ctx, true));
    app.post("/v1/completions", ctx -> openAi(ctx, false));
    app.get("/v1/models", this::openAiModels);

    app.post("/api/chat", ctx -> ollama(ctx, true));
    app.post("/api/generate", ctx -> ollama(ctx, false));
    app.get("/api/tags", this::ollamaTags);
    app.get("/api/ps", this::ollamaPs);
    app.get("/api/version", ctx -> ctx.json(java.util.Map.of("version", "0.1.0-mlxcap")));

    app.get("/admin/cache", this::adminCache);
    app.post("/admin/models/{model}/load", ctx -> {
      ModelSpec spec = host.resolve(ctx.pathParam("model"));
      String status = host.load(spec.name(), LoadCause.MANUAL);
      ctx.status(status.equals("loading") ? 202 : 200).json(java.util.Map.of("model", spec.name(), "status", status));
    });
    app.post("/admin/models/{model}/unload", ctx -> {
      ModelSpec spec = host.resolve(ctx.pathParam("model"));
      ctx.json(java.util.Map.of("model", spec.name(), "status", host.unload(spec.name())));
    });
  }

  // ---- errors ----

  private static void error(Context ctx, int status, String message) {
    ObjectNode body = Body.JSON.createObjectNode();
    if (ctx.path().startsWith("/api/")) {
      body.put("error", message);
    } else {
      ObjectNode error = body.putObject("error");
      error.put("message", message);
      error.put("type", status == 401 ? "authentication_error" : status >= 500 ? "server_error" : "invalid_request_error");
      error.put("code", status);
    }
    ctx.status(status).contentType("application/json").result(body.toString());
  }

  // ---- OpenAI ----

  private void openAi(Context ctx, boolean chat) throws IOException {
    Body body = Body.read(ctx, options.maxBodyBytes());
    String asked = body.requiredString("model");
    String prompt = chat ? body.chatPrompt() : completionPrompt(body.node());
    JsonNode n = body.node();
    int maxTokens = Body.integer(n, n.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
        n.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens", chat ? 32 : 16, 1, MAX_TOKENS_LIMIT);
    double temperature = Body.number(n, "temperature", "temperature", 1.0, 0, 2);
    long seed = Body.integer(n, "seed", "seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
    boolean stream = body.bool("stream", false);
    ModelSpec spec = host.resolve(asked);
    long created = Instant.now().getEpochSecond();
    String id = (chat ? "chatcmpl-" : "cmpl-");
    try (ModelHost.Lease lease = host.begin(asked, spec.name(), prompt.getBytes(StandardCharsets.UTF_8).length, maxTokens)) {
      serve(lease, () -> openAiAnswer(ctx, lease, chat, id + lease.id(), created, asked, prompt, maxTokens, temperature, seed, stream));
    }
  }

  /** Runs {@code answer}, recording a failure as the request's error; a client gone is a cancellation. */
  private static void serve(ModelHost.Lease lease, IoRunnable answer) throws IOException {
    try {
      answer.run();
    } catch (ClientGone e) {
      LOG.info("client went away during request {}", lease.id());
    } catch (IOException | RuntimeException e) {
      lease.failed(String.valueOf(e.getMessage()));
      throw e;
    }
  }

  /** A piece of answering that may fail with I/O. */
  private interface IoRunnable {
    void run() throws IOException;
  }

  private void openAiAnswer(Context ctx, ModelHost.Lease lease, boolean chat, String responseId, long created,
      String asked, String prompt, int maxTokens, double temperature, long seed, boolean stream) throws IOException {
    if (!stream) {
      LoadedModel.Generation g = lease.model().generate(prompt, maxTokens, temperature, seed, piece -> { });
      lease.succeeded(g.outputTokens());
      ObjectNode out = Body.JSON.createObjectNode();
      ObjectNode choice = oneChoice(out, responseId, chat ? "chat.completion" : "text_completion", created, asked);
      if (chat) {
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", g.text());
      } else {
        choice.put("text", g.text());
        choice.putNull("logprobs");
      }
      choice.put("finish_reason", "length");
      usage(out.putObject("usage"), g);
      ctx.json(out);
      return;
    }
    ctx.contentType("text/event-stream").header("Cache-Control", "no-cache");
    OutputStream out = ctx.res().getOutputStream();
    Consumer<String> send = json -> write(out, "data: " + json + "\n\n");
    if (chat) {
      send.accept(chunk(responseId, created, asked, true, delta -> delta.put("role", "assistant").put("content", ""), null));
    }
    LoadedModel.Generation g = lease.model().generate(prompt, maxTokens, temperature, seed, piece -> send.accept(
        chat ? chunk(responseId, created, asked, true, delta -> delta.put("content", piece), null)
            : chunk(responseId, created, asked, false, c -> c.put("text", piece), null)));
    ObjectNode last = (ObjectNode) readTree(chat
        ? chunk(responseId, created, asked, true, delta -> { }, "length")
        : chunk(responseId, created, asked, false, c -> c.put("text", ""), "length"));
    usage(last.putObject("usage"), g);
    send.accept(last.toString());
    write(out, "data: [DONE]\n\n");
    lease.succeeded(g.outputTokens());
  }

  private static String completionPrompt(JsonNode node) {
    JsonNode prompt = node.get("prompt");
    if (prompt == null || prompt.isNull()) {
      throw new BadRequest("'prompt' is required");
    }
    if (prompt.isTextual()) {
      return prompt.asText();
    }
    if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
      return prompt.get(0).asText();
    }
    throw new BadRequest("'prompt' must be a string");
  }

  private static String chunk(String id, long created, String model, boolean chat, Consumer<ObjectNode> fill,
      String finish) {
    ObjectNode out = Body.JSON.createObjectNode();
    ObjectNode choice = oneChoice(out, id, chat ? "chat.completion.chunk" : "text_completion", created, model);
    if (chat) {
      fill.accept(choice.putObject("delta"));
    } else {
      fill.accept(choice);
      choice.putNull("logprobs");
    }
    if (finish == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finish);
    }
    return out.toString();
  }

  /** Fills {@code out} as an OpenAI response of one choice and returns the choice, for the caller to fill. */
  private static ObjectNode oneChoice(ObjectNode out, String id, String object, long created, String model) {
    out.put("id", id);
    out.put("object", object);
    out.put("created", created);
    out.put("model", model);
    ObjectNode choice = out.putArray("choices").addObject();
    choice.put("index", 0);
    return choice;
  }

  private static void usage(ObjectNode usage, LoadedModel.Generation g) {
    usage.put("prompt_tokens", g.promptTokens());
    usage.put("completion_tokens", g.outputTokens());
    usage.put("total_tokens", g.promptTokens() + g.outputTokens());
  }

  private void openAiModels(Context ctx) {
    ObjectNode out = Body.JSON.createObjectNode();
    out.put("object", "list");
    ArrayNode data = out.putArray("data");
    for (ModelSpec m : host.table().models()) {
      for (String name : names(m)) {
        ObjectNode model = data.addObject();
        model.put("id", name);
        model.put("object", "model");
        model.put("created", 0);
        model.put("owned_by", "mlxcap");
      }
    }
    ctx.json(out);
  }

  private static java.util.List<String> names(ModelSpec m) {
    java.util.List<String> names = new java.util.ArrayList<>();
    names.add(m.name());
    names.addAll(m.aliases());
    return names;
  }

  // ---- Ollama ----

  private void ollama(Context ctx, boolean chat) throws IOException {
    Body body = Body.read(ctx, options.maxBodyBytes());
    String asked = body.requiredString("model");
    String prompt = chat ? body.chatPrompt() : body.requiredString("prompt");
    JsonNode opts = body.node().get("options");
    if (opts != null && !opts.isNull() && !opts.isObject()) {
      throw new BadRequest("'options' must be an object");
    }
    int maxTokens = Body.integer(opts, "num_predict", "options.num_predict", 32, 1, MAX_TOKENS_LIMIT);
    double temperature = Body.number(opts, "temperature", "options.temperature", 0.8, 0, 2);
    long seed = Body.integer(opts, "seed", "options.seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
    boolean stream = body.bool("stream", true);
    ModelSpec spec = host.resolve(asked);
    long arrived = System.nanoTime();
    try (ModelHost.Lease lease = host.begin(asked, spec.name(), prompt.getBytes(StandardCharsets.UTF_8).length, maxTokens)) {
      serve(lease, () -> ollamaAnswer(ctx, lease, chat, asked, prompt, maxTokens, temperature, seed, stream, arrived));
    }
  }

  private void ollamaAnswer(Context ctx, ModelHost.Lease lease, boolean chat, String asked, String prompt, int maxTokens,
      double temperature, long seed, boolean stream, long arrived) throws IOException {
    long loadNanos = System.nanoTime() - arrived;
    OutputStream out = stream ? ctx.contentType("application/x-ndjson").res().getOutputStream() : null;
    long evalStart = System.nanoTime();
    LoadedModel.Generation g = lease.model().generate(prompt, maxTokens, temperature, seed, piece -> {
      if (stream) {
        write(out, ollamaLine(asked, chat, piece, false).toString() + "\n");
      }
    });
    long evalNanos = System.nanoTime() - evalStart;
    ObjectNode last = ollamaLine(asked, chat, stream ? "" : g.text(), true);
    last.put("done_reason", "length");
    last.put("total_duration", System.nanoTime() - arrived);
    last.put("load_duration", loadNanos);
    last.put("prompt_eval_count", g.promptTokens());
    last.put("prompt_eval_duration", 0);
    last.put("eval_count", g.outputTokens());
    last.put("eval_duration", evalNanos);
    if (stream) {
      write(out, last + "\n");
    } else {
      ctx.json(last);
    }
    lease.succeeded(g.outputTokens());
  }

  private static ObjectNode ollamaLine(String model, boolean chat, String text, boolean done) {
    ObjectNode line = Body.JSON.createObjectNode();
    line.put("model", model);
    line.put("created_at", Instant.now().toString());
    if (chat) {
      ObjectNode message = line.putObject("message");
      message.put("role", "assistant");
      message.put("content", text);
    } else {
      line.put("response", text);
    }
    line.put("done", done);
    return line;
  }

  private void ollamaTags(Context ctx) {
    ObjectNode out = Body.JSON.createObjectNode();
    ArrayNode models = out.putArray("models");
    for (ModelSpec m : host.table().models()) {
      ObjectNode model = models.addObject();
      describeOllama(model, m);
      model.put("modified_at", "2026-01-29T00:00:00Z");
    }
    ctx.json(out);
  }

  private void ollamaPs(Context ctx) {
    ModelHost.Snapshot snapshot = host.snapshot();
    CachePolicy policy = host.settings().cache();
    ObjectNode out = Body.JSON.createObjectNode();
    ArrayNode models = out.putArray("models");
    for (CachedModel c : snapshot.models()) {
      if (c.loading()) {
        continue;
      }
      ObjectNode model = models.addObject();
      describeOllama(model, host.table().resolve(c.model()));
      model.put("size", c.bytes());
      model.put("size_vram", 0);
      Instant expires = policy.idleTtl().equals(CachePolicy.NO_IDLE_TTL) || c.pins() > 0
          ? Instant.parse("2318-01-01T00:00:00Z")
          : Instant.now().plusNanos(Math.max(0, c.idleSinceNanos() + policy.idleTtl().toNanos() - snapshot.nowNanos()));
      model.put("expires_at", expires.toString());
    }
    ctx.json(out);
  }

  private static void describeOllama(ObjectNode model, ModelSpec spec) {
    model.put("name", spec.name());
    model.put("model", spec.name());
    model.put("size", spec.size().expectedBytes());
    model.put("digest", Integer.toHexString(spec.name().hashCode()));
    ObjectNode details = model.putObject("details");
    details.put("format", "mlxcap-synth");
    details.put("family", "mlxcap");
    details.putArray("families").add("mlxcap");
    details.put("parameter_size", String.format(Locale.ROOT, "%.1fM", spec.size().expectedBytes() / 4e6));
    details.put("quantization_level", "F32");
  }

  // ---- admin ----

  private void adminCache(Context ctx) {
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

  // ---- streaming ----

  /** The client closed the connection while we were writing. */
  private static final class ClientGone extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ClientGone(IOException cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  private static void write(OutputStream out, String text) {
    try {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      throw new ClientGone(e);
    }
  }

  private static JsonNode readTree(String json) {
    try {
      return Body.JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
