package io.mlxcap.server.http;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.mlxcap.server.host.HostException;
import io.mlxcap.server.host.ModelHost;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side over a {@link ModelHost}: the routing table (which endpoint each API class answers:
 * {@link OpenAiApi}, {@link OllamaApi}, {@link AdminApi}; both generating APIs answer through
 * {@link Answering}), the guard every request passes first, and the errors. Binds 127.0.0.1 unless told otherwise; with an API key, every endpoint but /health wants
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

  private final Options options;
  /** Whether Jetty started: one that failed to start throws again when stopped. */
  private volatile boolean started;
  private final Origins origins;
  private final Javalin app;
  private final Answering answering = new Answering();
  private final OpenAiApi openAi;
  private final OllamaApi ollama;
  private final AdminApi admin;

  public ApiServer(ModelHost host, Options options) {
    this.options = options;
    this.openAi = new OpenAiApi(host, answering, options.maxBodyBytes());
    this.ollama = new OllamaApi(host, answering, options.maxBodyBytes());
    this.admin = new AdminApi(host);
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
    answering.close();
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

    app.get("/", ollama::probe);
    app.head("/", ctx -> ctx.status(200));
    app.get("/health", admin::health);
    app.get("/metrics", admin::metrics);

    app.post("/v1/chat/completions", ctx -> openAi.complete(ctx, true));
    app.post("/v1/completions", ctx -> openAi.complete(ctx, false));
    app.get("/v1/models", openAi::models);
    app.get("/v1/models/{id}", openAi::model);

    app.post("/api/chat", ctx -> ollama.generate(ctx, true));
    app.post("/api/generate", ctx -> ollama.generate(ctx, false));
    app.post("/api/show", ollama::show);
    app.get("/api/tags", ollama::tags);
    app.get("/api/ps", ollama::ps);
    app.get("/api/version", ollama::version);

    app.get("/admin/cache", admin::cache);
    app.post("/admin/models/{model}/load", admin::load);
    app.post("/admin/models/{model}/unload", admin::unload);
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

  /** Answers {@code status} with {@code message} in the shape of the API the path belongs to (Ollama under /api/, else OpenAI). */
  static void error(Context ctx, int status, String message, String code, long retryAfterSeconds) {
    if (retryAfterSeconds > 0) {
      ctx.header("Retry-After", Long.toString(retryAfterSeconds));
    }
    String body = ctx.path().startsWith("/api/") ? JsonErrorHandler.ollamaBody(message)
        : JsonErrorHandler.openAiBody(status, message, code);
    ctx.status(status).contentType("application/json").result(body);
  }

  /** A {@code Server-Timing} value for a generation of {@code nanos}: {@code generate;dur=12.345} (milliseconds). */
  public static String serverTiming(long nanos) {
    return Answering.serverTiming(nanos);
  }
}
