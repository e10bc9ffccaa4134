package io.mlxcap.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.mlxcap.cache.CachedModel;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.cache.ModelCache;
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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API over a {@link ModelHost}: OpenAI- and Ollama-compatible endpoints, admin, health and
 * metrics. Binds 127.0.0.1 unless told otherwise; with an API key, every endpoint but /health wants
 * {@code Authorization: Bearer <key>}. Errors are JSON in each API's own shape, one sentence each,
 * whatever refused the request: a route, Javalin or Jetty itself ({@link JsonErrorHandler}).
 *
 * <p>Like Ollama, it answers browsers only from loopback origins unless {@code MLX_ALLOWED_ORIGINS}
 * names more, and while bound to loopback it answers only requests whose {@code Host} is a loopback
 * name (no DNS rebinding): anything else is 403.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  /** The most output tokens one request may ask for. */
  static final int MAX_TOKENS_LIMIT = 4096;
  /** A non-streaming answer that has generated this long starts sending whitespace, to notice a client that left. */
  private static final long HEARTBEAT_NANOS = 1_000_000_000L;
  private static final List<String> OPENAI_ROLES = List.of("system", "developer", "user", "assistant", "tool", "function");
  private static final List<String> OLLAMA_ROLES = List.of("system", "user", "assistant", "tool");
  /** Jetty's threads: reading requests, admin, health, metrics; never one per queued request. */
  static final int HTTP_THREADS = 32;
  /** How long stopping waits for answers still being written. */
  private static final long STOP_TIMEOUT_MS = 10_000;

  /**
   * Where and how to listen.
   *
   * @param apiKey the key clients must send, or null for none
   * @param allowedOrigins browser origins allowed beyond loopback ({@code MLX_ALLOWED_ORIGINS}); {@code *} allows any
   */
  public record Options(String bindHost, int port, String apiKey, long maxBodyBytes, List<String> allowedOrigins) {
    public Options(String bindHost, int port, String apiKey, long maxBodyBytes) {
      this(bindHost, port, apiKey, maxBodyBytes, List.of());
    }

    public Options {
      allowedOrigins = List.copyOf(allowedOrigins);
    }
  }

  /** HTTP threads that may generate a hit themselves at once; the rest of the pool stays free. */
  static final int INLINE_GENERATIONS = HTTP_THREADS / 2;

  private final ModelHost host;
  private final Options options;
  /** Whether Jetty started: one that failed to start throws again when stopped. */
  private volatile boolean started;
  private final java.util.concurrent.Semaphore inline = new java.util.concurrent.Semaphore(INLINE_GENERATIONS);
  private final Origins origins;
  private final Javalin app;
  /**
   * Where requests that have a worker wait for their model and generate: one thread per busy worker
   * (the dispatcher allows at most MLX_MAX_CONCURRENT_REQUESTS), made on demand and kept a minute.
   */
  private final java.util.concurrent.ExecutorService generators = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "mlxcap-generate");
    t.setDaemon(true);
    return t;
  });

  public ApiServer(ModelHost host, Options options) {
    this.host = host;
    this.options = options;
    this.origins = new Origins(options.bindHost(), options.allowedOrigins());
    this.app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.http.disableCompression();
      config.http.maxRequestSize = options.maxBodyBytes();
      config.http.prefer405over404 = true;
      config.jetty.defaultHost = options.bindHost();
      // Jetty's threads only read requests and hand them over: a queued request holds no thread (it is
      // a future, answered asynchronously), and one with a worker runs on the generation pool. So
      // Jetty's pool is small and fixed, whatever MLX_MAX_QUEUE says (it may be 2^31 - 1).
      org.eclipse.jetty.util.thread.QueuedThreadPool pool = new org.eclipse.jetty.util.thread.QueuedThreadPool(HTTP_THREADS, 4);
      pool.setName("mlxcap-http");
      config.jetty.threadPool = pool;
      config.jetty.modifyServer(server -> {
        server.setErrorHandler(new JsonErrorHandler());
        // Stopping is graceful: answers being written when the host has drained are finished first.
        server.setStopTimeout(STOP_TIMEOUT_MS);
      });
      config.jetty.modifyServletContextHandler(handler -> handler.setErrorHandler(new JsonErrorHandler()));
      config.startupWatcherEnabled = false;
    });
    routes();
  }

  /** Starts listening; returns the port (useful with port 0). A port in use is one sentence (an I/O failure). */
  public int start() {
    // Jetty, failing to bind, stops itself gracefully and that stop throws over the bind failure; so the
    // port is tried first, the way Jetty binds it (address reuse on), and a lost race is still caught.
    if (options.port() != 0) {
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.setReuseAddress(true);
        probe.bind(new java.net.InetSocketAddress(options.bindHost(), options.port()));
      } catch (java.io.IOException e) {
        throw cannotListen(e.getMessage());
      }
    }
    try {
      app.start(options.bindHost(), options.port());
    } catch (RuntimeException e) {
      throw cannotListen(e.getMessage());
    }
    started = true;
    return app.port();
  }

  private java.io.UncheckedIOException cannotListen(String why) {
    return new java.io.UncheckedIOException("cannot listen on " + options.bindHost() + ":" + options.port()
        + ": the port is in use or not this machine's; stop what listens there or choose another with --port (0 picks a free one)",
        new java.net.BindException(why));
  }

  @Override
  public void close() {
    if (started) {
      app.stop();
    }
    generators.shutdownNow();
  }

  private void routes() {
    app.before(this::guard);
    app.exception(BadRequest.class, (e, ctx) -> error(ctx, e.status, e.getMessage(), null, 0));
    app.exception(HostException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage(), e.code(), e.retryAfterSeconds()));
    app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), describe(ctx, e.getStatus(), e.getMessage()),
        null, 0));
    app.exception(Exception.class, (e, ctx) -> {
      LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
      error(ctx, 500, "internal error; the server log has the details", null, 0);
    });
    for (int status : new int[] {404, 405, 413, 414, 431, 500, 503}) {
      app.error(status, ctx -> {
        if (ctx.result() == null || ctx.result().isEmpty()) {
          error(ctx, status, describe(ctx, status, null), null, 0);
        }
      });
    }

    app.get("/", ctx -> ctx.result("Ollama is running"));
    app.head("/", ctx -> ctx.status(200));
    app.get("/health", ctx -> ctx.json(java.util.Map.of("status", "ok")));
    app.get("/metrics", ctx -> ctx.contentType(ServerMetrics.contentType()).result(host.scrapeMetrics()));

    app.post("/v1/chat/completions", ctx -> openAi(ctx, true));
    app.post("/v1/completions", ctx -> openAi(ctx, false));
    app.get("/v1/models", this::openAiModels);
    app.get("/v1/models/{id}", this::openAiModel);

    app.post("/api/chat", ctx -> ollama(ctx, true));
    app.post("/api/generate", ctx -> ollama(ctx, false));
    app.post("/api/show", this::ollamaShow);
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

  /** Host and Origin first (403), then the API key (401); answers a browser's CORS pre-flight. */
  private void guard(Context ctx) {
    String refusal = origins.refusal(ctx.header("Host"), ctx.header("Origin"));
    if (refusal != null) {
      throw new BadRequest(403, refusal);
    }
    String origin = ctx.header("Origin");
    if (origin != null) {
      ctx.header("Access-Control-Allow-Origin", origin);
      ctx.header("Vary", "Origin");
    }
    if (ctx.method() == io.javalin.http.HandlerType.OPTIONS) {
      ctx.header("Access-Control-Allow-Methods", "GET, POST, HEAD, OPTIONS");
      ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      ctx.status(204);
      ctx.skipRemainingHandlers();
      return;
    }
    if (options.apiKey() != null && !ctx.path().equals("/health")) {
      String header = ctx.header("Authorization");
      byte[] expected = ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
      if (header == null || !java.security.MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expected)) {
        throw new BadRequest(401, "a valid API key is required: send Authorization: Bearer <MLX_API_KEY>");
      }
    }
  }

  // ---- errors ----

  private static String describe(Context ctx, int status, String given) {
    return switch (status) {
      case 404 -> "no such endpoint: " + ctx.method() + " " + ctx.path();
      case 405 -> ctx.method() + " is not allowed on " + ctx.path() + "; see the API's documented methods";
      default -> given == null || given.isBlank() ? JsonErrorHandler.message(status, null) : given;
    };
  }

  private static void error(Context ctx, int status, String message, String code, long retryAfterSeconds) {
    if (retryAfterSeconds > 0) {
      ctx.header("Retry-After", Long.toString(retryAfterSeconds));
    }
    String body = ctx.path().startsWith("/api/") ? JsonErrorHandler.ollamaBody(message)
        : JsonErrorHandler.openAiBody(status, message, code);
    ctx.status(status).contentType("application/json").result(body);
  }

  // ---- generating, for both APIs ----

  /** What one generation asks for. */
  private record Ask(String prompt, int maxTokens, double temperature, long seed, List<String> stops) {}

  /** Runs {@code answer} on {@code lease}: a client gone or a cancellation is recorded as such, a failure as the error. */
  private static void serve(ModelHost.Lease lease, IoRunnable answer) throws IOException {
    try {
      answer.run();
    } catch (ClientGone e) {
      lease.cancel("the client went away");
      LOG.info("client went away during request {}", lease.id());
    } catch (HostException e) {
      if (e.cancelled()) {
        lease.cancel(e.getMessage());
      } else {
        lease.failed(e.getMessage());
      }
      throw e;
    } catch (IOException | RuntimeException e) {
      lease.failed(String.valueOf(e.getMessage()));
      throw e;
    }
  }

  /** A piece of answering that may fail with I/O. */
  private interface IoRunnable {
    void run() throws IOException;
  }

  /**
   * Generates for {@code ask} on the lease's model: pieces past the stop sequences go to {@code show}
   * as they come; a non-streaming answer ({@code show} null) that runs long sends whitespace now and
   * then through {@code heartbeat}, so a client that left is noticed; a cancelled lease stops it.
   */
  private static Result generate(ModelHost.Lease lease, Ask ask, Consumer<String> show, Runnable heartbeat) {
    StopSequences stops = new StopSequences(ask.stops());
    long started = System.nanoTime();
    long[] lastBeat = {started};
    LoadedModel.Generation g = lease.model().generate(ask.prompt(), ask.maxTokens(), ask.temperature(), ask.seed(), piece -> {
      if (lease.cancelled()) {
        throw HostException.cancelled("the request was cancelled: the server is shutting down");
      }
      String visible = stops.accept(piece);
      if (show != null && !visible.isEmpty()) {
        show.accept(visible);
      } else if (show == null && System.nanoTime() - lastBeat[0] > HEARTBEAT_NANOS) {
        heartbeat.run();
        lastBeat[0] = System.nanoTime();
      }
      return !stops.stopped();
    });
    String rest = stops.flush();
    if (show != null && !rest.isEmpty()) {
      show.accept(rest);
    }
    return new Result(g, stops.text(), stops.stopped() ? "stop" : "length", System.nanoTime() - started);
  }

  /** What a generation produced, as shown: the text past stop sequences, why it ended and how long it took. */
  private record Result(LoadedModel.Generation generation, String text, String finishReason, long generateNanos) {}

  /** A non-streaming JSON answer that may have started with whitespace (see {@link #generate}). */
  private static final class JsonAnswer {
    private final Context ctx;
    private OutputStream out;

    JsonAnswer(Context ctx) {
      this.ctx = ctx;
    }

    void heartbeat() {
      if (out == null) {
        ctx.contentType("application/json");
        out = output(ctx);
      }
      write(out, " ");
    }

    /**
     * Sends {@code body}, with the generation's time in a {@code Server-Timing} header (W3C Server
     * Timing: {@code generate;dur=} milliseconds) unless a heartbeat already sent the headers: a client
     * then sees how much of its wait was the model and how much the server around it.
     */
    void send(ObjectNode body, long generateNanos) {
      if (out == null) {
        ctx.header("Server-Timing", serverTiming(generateNanos));
        ctx.json(body);
      } else {
        write(out, body.toString());
      }
    }
  }

  /** A {@code Server-Timing} value for a generation of {@code nanos}: {@code generate;dur=12.345} (milliseconds). */
  public static String serverTiming(long nanos) {
    long micros = Math.max(0, (nanos + 500) / 1000);
    String fraction = Long.toString(1000 + micros % 1000).substring(1); // String.format here topped a JFR profile of the server
    return "generate;dur=" + micros / 1000 + "." + fraction;
  }

  private static OutputStream output(Context ctx) {
    try {
      return ctx.res().getOutputStream();
    } catch (IOException e) {
      throw new ClientGone(e);
    }
  }

  // ---- OpenAI ----

  private void openAi(Context ctx, boolean chat) throws IOException {
    Body body = Body.read(ctx, options.maxBodyBytes());
    String asked = body.requiredString("model");
    String prompt = chat ? body.chatPrompt(OPENAI_ROLES) : completionPrompt(body.node());
    JsonNode n = body.node();
    String tokensField = n.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    int maxTokens = Body.integer(n, tokensField, tokensField, chat ? 32 : 16, 1, MAX_TOKENS_LIMIT);
    int choices = Body.integer(n, "n", "n", 1, 1, Integer.MAX_VALUE);
    if (choices != 1) {
      throw new BadRequest("'n' must be 1: this server returns one choice per request, was " + choices);
    }
    Ask ask = new Ask(prompt, maxTokens, Body.number(n, "temperature", "temperature", 1.0, 0, 2),
        Body.integer(n, "seed", "seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE), body.stopSequences(n, "stop", "stop"));
    boolean stream = body.bool("stream", false);
    ModelSpec spec = host.resolve(asked);
    long created = Instant.now().getEpochSecond();
    ModelHost.Admission admission = host.admit(asked, spec, promptTokens(prompt), maxTokens, ModelCache.KEEP_ALIVE_DEFAULT);
    answerWhenStarted(ctx, admission,
        lease -> openAiAnswer(ctx, lease, chat, (chat ? "chatcmpl-" : "cmpl-") + lease.id(), created, asked, ask, stream));
  }

  /** How a request with its model answers. */
  private interface Answer {
    void run(ModelHost.Lease lease) throws IOException;
  }

  /**
   * Answers asynchronously: no thread waits while the request is queued; once a worker takes it,
   * a generation thread waits for the model and runs {@code answer}; a refusal or failure is
   * answered as JSON like any other error. A hit (a worker free and the model resident) is answered
   * on the HTTP thread that read it, with no hand-off, while fewer than {@link #INLINE_GENERATIONS}
   * HTTP threads are generating; so the HTTP pool always has threads left for everything else.
   */
  private void answerWhenStarted(Context ctx, ModelHost.Admission admission, Answer answer) {
    Consumer<ModelHost.Lease> respond = lease -> {
      try (lease) {
        serve(lease, () -> answer.run(lease));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    boolean permit = inline.tryAcquire();
    CompletableFuture<ModelHost.Lease> started = admission.whenStarted(generators, permit);
    if (permit && started.isDone()) {
      // The lease is ready: answer in this handler, like any synchronous one (no hand-off, no async round trip).
      try {
        respond.accept(started.join());
      } catch (RuntimeException e) {
        answerError(ctx, e);
      } finally {
        inline.release();
      }
      return;
    }
    if (permit) {
      inline.release();
    }
    ctx.future(() -> started.thenAccept(respond).exceptionally(error -> {
      answerError(ctx, error);
      return null;
    }));
  }

  private static void answerError(Context ctx, Throwable thrown) {
    Throwable error = thrown instanceof java.util.concurrent.CompletionException && thrown.getCause() != null
        ? thrown.getCause() : thrown;
    if (error instanceof HostException e) {
      error(ctx, e.status(), e.getMessage(), e.code(), e.retryAfterSeconds());
    } else if (error instanceof BadRequest e) {
      error(ctx, e.status, e.getMessage(), null, 0);
    } else if (error instanceof ClientGone) {
      LOG.info("client went away on {} {}", ctx.method(), ctx.path());
    } else {
      LOG.error("internal error on {} {}", ctx.method(), ctx.path(), error);
      error(ctx, 500, "internal error; the server log has the details", null, 0);
    }
  }

  private static long promptTokens(String prompt) {
    return Math.max(1, prompt.getBytes(StandardCharsets.UTF_8).length);
  }

  private void openAiAnswer(Context ctx, ModelHost.Lease lease, boolean chat, String responseId, long created,
      String asked, Ask ask, boolean stream) throws IOException {
    if (!stream) {
      JsonAnswer answer = new JsonAnswer(ctx);
      Result r = generate(lease, ask, null, answer::heartbeat);
      lease.succeeded(r.generation().outputTokens());
      ObjectNode out = Body.JSON.createObjectNode();
      ObjectNode choice = oneChoice(out, responseId, chat ? "chat.completion" : "text_completion", created, asked);
      if (chat) {
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", r.text());
      } else {
        choice.put("text", r.text());
        choice.putNull("logprobs");
      }
      choice.put("finish_reason", r.finishReason());
      usage(out.putObject("usage"), r.generation());
      answer.send(out, r.generateNanos());
      return;
    }
    ctx.contentType("text/event-stream").header("Cache-Control", "no-cache");
    OutputStream out = output(ctx);
    Consumer<String> send = json -> write(out, "data: " + json + "\n\n");
    if (chat) {
      send.accept(chunk(responseId, created, asked, true, delta -> delta.put("role", "assistant").put("content", ""), null));
    }
    Result r = generate(lease, ask, piece -> send.accept(
        chat ? chunk(responseId, created, asked, true, delta -> delta.put("content", piece), null)
            : chunk(responseId, created, asked, false, c -> c.put("text", piece), null)), null);
    ObjectNode last = (ObjectNode) readTree(chat
        ? chunk(responseId, created, asked, true, delta -> { }, r.finishReason())
        : chunk(responseId, created, asked, false, c -> c.put("text", ""), r.finishReason()));
    usage(last.putObject("usage"), r.generation());
    send.accept(last.toString());
    write(out, "data: [DONE]\n\n");
    lease.succeeded(r.generation().outputTokens());
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
        openAiModel(data.addObject(), name);
      }
    }
    ctx.json(out);
  }

  private void openAiModel(Context ctx) {
    String id = ctx.pathParam("id");
    host.resolve(id);
    ctx.json(openAiModel(Body.JSON.createObjectNode(), id));
  }

  private static ObjectNode openAiModel(ObjectNode model, String id) {
    model.put("id", id);
    model.put("object", "model");
    model.put("created", 0);
    model.put("owned_by", "mlxcap");
    return model;
  }

  private static List<String> names(ModelSpec m) {
    List<String> names = new java.util.ArrayList<>();
    names.add(m.name());
    names.addAll(m.aliases());
    return names;
  }

  // ---- Ollama ----

  private void ollama(Context ctx, boolean chat) throws IOException {
    Body body = Body.read(ctx, options.maxBodyBytes());
    String asked = body.requiredString("model");
    JsonNode messages = body.node().get("messages");
    boolean empty = chat ? messages == null || messages.isNull() || messages.isArray() && messages.isEmpty()
        : body.node().path("prompt").asText("").isEmpty() && !body.node().path("prompt").isContainerNode();
    String prompt = empty ? "" : chat ? body.chatPrompt(OLLAMA_ROLES) : body.requiredString("prompt");
    JsonNode opts = body.node().get("options");
    if (opts != null && !opts.isNull() && !opts.isObject()) {
      throw new BadRequest("'options' must be an object");
    }
    int maxTokens = Body.integer(opts, "num_predict", "options.num_predict", 32, 1, MAX_TOKENS_LIMIT);
    Ask ask = new Ask(prompt, maxTokens, Body.number(opts, "temperature", "options.temperature", 0.8, 0, 2),
        Body.integer(opts, "seed", "options.seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE),
        body.stopSequences(opts, "stop", "options.stop"));
    long keepAlive = body.keepAlive();
    boolean stream = body.bool("stream", true);
    ModelSpec spec = host.resolve(asked);
    if (empty) {
      ollamaLoadOrUnload(ctx, chat, asked, spec, keepAlive);
      return;
    }
    long arrived = System.nanoTime();
    ModelHost.Admission admission = host.admit(asked, spec, promptTokens(prompt), maxTokens, keepAlive);
    answerWhenStarted(ctx, admission, lease -> ollamaAnswer(ctx, lease, chat, asked, ask, stream, arrived));
  }

  /**
   * Ollama's empty prompt: load the model (and keep it as {@code keep_alive} says), or with
   * {@code keep_alive: 0} unload it once idle; either goes through the cache as a request that
   * generates nothing, so the trace and a replay see it as it happened. A model not loaded is not
   * loaded to be unloaded.
   */
  private void ollamaLoadOrUnload(Context ctx, boolean chat, String asked, ModelSpec spec, long keepAlive) {
    boolean unload = keepAlive == 0;
    if (!unload || host.isCached(spec.name())) {
      try (ModelHost.Lease lease = host.begin(asked, spec, 0, 0, keepAlive)) {
        lease.succeeded(0);
      }
    }
    ObjectNode out = ollamaLine(asked, chat, "", true);
    out.put("done_reason", unload ? "unload" : "load");
    ctx.json(out);
  }

  private void ollamaAnswer(Context ctx, ModelHost.Lease lease, boolean chat, String asked, Ask ask, boolean stream,
      long arrived) throws IOException {
    long loadNanos = System.nanoTime() - arrived;
    OutputStream out = stream ? output(ctx.contentType("application/x-ndjson")) : null;
    JsonAnswer answer = stream ? null : new JsonAnswer(ctx);
    Result r = generate(lease, ask, stream ? piece -> write(out, ollamaLine(asked, chat, piece, false) + "\n") : null,
        stream ? null : answer::heartbeat);
    ObjectNode last = ollamaLine(asked, chat, stream ? "" : r.text(), true);
    last.put("done_reason", r.finishReason());
    last.put("total_duration", System.nanoTime() - arrived);
    last.put("load_duration", loadNanos);
    last.put("prompt_eval_count", r.generation().promptTokens());
    last.put("prompt_eval_duration", 0);
    last.put("eval_count", r.generation().outputTokens());
    last.put("eval_duration", r.generateNanos());
    if (stream) {
      write(out, last + "\n");
    } else {
      answer.send(last, r.generateNanos());
    }
    lease.succeeded(r.generation().outputTokens());
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

  private void ollamaShow(Context ctx) {
    Body body = Body.read(ctx, options.maxBodyBytes());
    String asked = body.node().has("model") ? body.requiredString("model") : body.requiredString("name");
    ModelSpec spec = host.resolve(asked);
    ObjectNode out = Body.JSON.createObjectNode();
    out.put("modelfile", "# mlxcap synthetic model\nFROM " + spec.name() + "\n");
    out.put("parameters", "");
    out.put("template", "{{ .Prompt }}");
    describeDetails(out.putObject("details"), spec);
    ObjectNode info = out.putObject("model_info");
    info.put("general.architecture", "mlxcap");
    info.put("general.parameter_count", spec.size().expectedBytes() / 4);
    if (spec.details().contextTokens() > 0) {
      info.put("mlxcap.context_length", spec.details().contextTokens());
    }
    out.putArray("capabilities").add("completion");
    out.put("modified_at", "2026-01-29T00:00:00Z");
    ctx.json(out);
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
    ObjectNode out = Body.JSON.createObjectNode();
    ArrayNode models = out.putArray("models");
    Instant now = Instant.now();
    for (CachedModel c : snapshot.models()) {
      if (c.loading()) {
        continue;
      }
      ObjectNode model = models.addObject();
      describeOllama(model, host.table().resolve(c.model()));
      model.put("size", c.bytes());
      model.put("size_vram", 0);
      // The core says when the cleanup tick may unload it: its keep-alive or the idle TTL; never while in use.
      Instant expires = c.expiresAtNanos() == Long.MAX_VALUE ? Instant.parse("2318-01-01T00:00:00Z")
          : now.plusNanos(Math.max(0, c.expiresAtNanos() - snapshot.nowNanos()));
      model.put("expires_at", expires.toString());
    }
    ctx.json(out);
  }

  private static void describeOllama(ObjectNode model, ModelSpec spec) {
    model.put("name", spec.name());
    model.put("model", spec.name());
    model.put("size", spec.size().expectedBytes());
    model.put("digest", Integer.toHexString(spec.name().hashCode()));
    describeDetails(model.putObject("details"), spec);
  }

  private static void describeDetails(ObjectNode details, ModelSpec spec) {
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
