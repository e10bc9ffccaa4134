package io.mlxcap.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.mlxcap.server.host.HostException;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.model.LoadedModel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How an admitted request is answered, the same for both APIs: where it waits for its worker and
 * model (no thread while it queues), the generation loop (stop sequences, cancellation, the heartbeat
 * of a long non-streaming answer), the writing of pieces to a client that may leave, and how the
 * lease ends — served, failed or cancelled. {@link OpenAiApi} and {@link OllamaApi} say only what
 * their answers look like.
 */
final class Answering implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Answering.class);
  /** A non-streaming answer that has generated this long starts sending whitespace, to notice a client that left. */
  private static final long HEARTBEAT_NANOS = 1_000_000_000L;

  /** HTTP threads that may generate a hit themselves at once; the rest of the pool stays free. */
  private final Semaphore inline = new Semaphore(ApiServer.INLINE_GENERATIONS);
  /**
   * Where requests that have a worker wait for their model and generate: one thread per busy worker
   * (the dispatcher allows at most MLX_MAX_CONCURRENT_REQUESTS), made on demand and kept a minute.
   */
  private final ExecutorService generators = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "mlxcap-generate");
    t.setDaemon(true);
    return t;
  });

  /** What one generation asks for. */
  record Ask(String prompt, int maxTokens, double temperature, long seed, List<String> stops) {}

  /** What a generation produced, as shown: the text past stop sequences, why it ended and how long it took. */
  record Result(LoadedModel.Generation generation, String text, String finishReason, long generateNanos) {}

  /** How a request with its model answers. */
  interface Answer {
    void run(ModelHost.Lease lease) throws IOException;
  }

  /**
   * Answers asynchronously: no thread waits while the request is queued; once a worker takes it,
   * a generation thread waits for the model and runs {@code answer}; a refusal or failure is
   * answered as JSON like any other error. A hit (a worker free and the model resident) is answered
   * on the HTTP thread that read it, with no hand-off, while fewer than
   * {@link ApiServer#INLINE_GENERATIONS} HTTP threads are generating; so the HTTP pool always has
   * threads left for everything else.
   */
  void whenStarted(Context ctx, ModelHost.Admission admission, Answer answer) {
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

  @Override
  public void close() {
    generators.shutdownNow();
  }

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

  private static void answerError(Context ctx, Throwable thrown) {
    Throwable error = thrown instanceof CompletionException && thrown.getCause() != null ? thrown.getCause() : thrown;
    if (error instanceof HostException e) {
      ApiServer.error(ctx, e.status(), e.getMessage(), e.code(), e.retryAfterSeconds());
    } else if (error instanceof BadRequest e) {
      ApiServer.error(ctx, e.status, e.getMessage(), null, 0);
    } else if (error instanceof ClientGone) {
      LOG.info("client went away on {} {}", ctx.method(), ctx.path());
    } else {
      LOG.error("internal error on {} {}", ctx.method(), ctx.path(), error);
      ApiServer.error(ctx, 500, "internal error; the server log has the details", null, 0);
    }
  }

  /**
   * Generates for {@code ask} on the lease's model: pieces past the stop sequences go to {@code show}
   * as they come; a non-streaming answer ({@code show} null) that runs long sends whitespace now and
   * then through {@code heartbeat}, so a client that left is noticed; a cancelled lease stops it.
   */
  static Result generate(ModelHost.Lease lease, Ask ask, Consumer<String> show, Runnable heartbeat) {
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

  /** The prompt's length in tokens as this server counts them (its models read bytes). */
  static long promptTokens(String prompt) {
    return Math.max(1, prompt.getBytes(StandardCharsets.UTF_8).length);
  }

  /** A non-streaming JSON answer that may have started with whitespace (see {@link #generate}). */
  static final class JsonAnswer {
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
  static String serverTiming(long nanos) {
    long micros = Math.max(0, (nanos + 500) / 1000);
    String fraction = Long.toString(1000 + micros % 1000).substring(1); // String.format here topped a JFR profile of the server
    return "generate;dur=" + micros / 1000 + "." + fraction;
  }

  /** The response's stream, for an answer written in pieces. */
  static OutputStream output(Context ctx) {
    try {
      return ctx.res().getOutputStream();
    } catch (IOException e) {
      throw new ClientGone(e);
    }
  }

  /** Writes and flushes {@code text}; a client that left is {@link ClientGone}. */
  static void write(OutputStream out, String text) {
    try {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      throw new ClientGone(e);
    }
  }

  /** The client closed the connection while we were writing. */
  static final class ClientGone extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ClientGone(IOException cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }
}
