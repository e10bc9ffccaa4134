package io.mlxcap.server;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.host.ServerMetrics;
import io.mlxcap.server.http.ApiServer;
import io.mlxcap.server.model.DjlEngine;
import io.mlxcap.server.model.LoadedModel;
import io.mlxcap.server.model.SynthModelFile;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mlxcap bench-server}: the server's hit-path overhead and load bandwidth, measured in one run. */
@Command(name = "bench-server", mixinStandardHelpOptions = true,
    description = "Benchmark the server in this process: (1) hit-path latency of N sequential OpenAI requests with "
        + "max_tokens=1 on the smallest model over one kept-alive connection (a plain HTTP/1.1 client), after a warm-up, "
        + "each request's end to end less its own generation (the Server-Timing header the server sends), which is the "
        + "server's overhead (HTTP, JSON, queue, cache); beside it generate() alone in a loop and after a 1 ms pause each, "
        + "and two bare Javalin handlers with the same client, one calling generate() and one empty; "
        + "(2) for each model, load time and effective bandwidth against a raw read of the same weights file, in the "
        + "same run (page cache warm for both), with the median and worst load beside the best: the spread a host profile "
        + "carries into predicted waits.")
final class BenchServerCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--models-dir", required = true, paramLabel = "DIR", description = "Models built by synth-models.")
  Path modelsDir;

  @Option(names = "--requests", defaultValue = "500", paramLabel = "N", description = "Hit-path requests. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(names = "--warmup", defaultValue = "2000", paramLabel = "N",
      description = "Requests sent first and not timed, to each server and to generate() alone, so the JIT has "
          + "compiled the path being measured (measured: 50 left the p50 overhead ~2 ms higher). Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--loads", defaultValue = "10", paramLabel = "N",
      description = "Loads and reads per model; the best of each is compared (with 3, one noisy run put the smallest model past 2x). Default: ${DEFAULT-VALUE}.")
  int loads;

  @Override
  public void run() {
    if (requests < 1 || warmup < 0 || loads < 1) {
      throw new io.mlxcap.InvalidInputException("--requests and --loads must be at least 1 and --warmup at least 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    ModelTable table = SynthModelFile.tableOf(modelsDir);
    DjlEngine.start(Path.of(System.getProperty("mlxcap.djlCache", ".cache/djl")));
    out.printf(Locale.ROOT, "Java %s, %d cores, MALLOC_MMAP_THRESHOLD_=%s%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), System.getenv("MALLOC_MMAP_THRESHOLD_"));
    ModelSpec smallest = table.models().stream().min(java.util.Comparator.comparingLong(m -> m.size().expectedBytes())).orElseThrow();
    hitPath(table, smallest, out);
    for (ModelSpec model : table.models()) {
      loadBandwidth(modelsDir.resolve(SynthModelFile.directoryFor(model.name())), out);
    }
  }

  private void hitPath(ModelTable table, ModelSpec model, PrintWriter out) {
    Settings settings = Settings.fromEnv(Map.of("MLX_PRELOAD_MODELS", model.name(), "MLX_MEMORY_PRESSURE_THRESHOLD", "off"), table);
    try (ModelHost host = new ModelHost(settings, table, modelsDir, Ticker.system(), null, new ServerMetrics());
        ApiServer api = new ApiServer(host, new ApiServer.Options("127.0.0.1", 0, null, 1 << 20))) {
      host.start(Duration.ZERO);
      int port = api.start();
      // A plain HTTP/1.1 client on one kept-alive socket: what is measured is the server, not a client library.
      byte[] body = ("{\"model\":\"" + model.name()
          + "\",\"max_tokens\":1,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      Timings server = timed(port, body);
      long[] alone;
      long[] afterPause;
      Timings bareGenerating;
      Timings bareEmpty;
      try (LoadedModel loaded = LoadedModel.load(modelsDir.resolve(SynthModelFile.directoryFor(model.name())))) {
        alone = generateAlone(loaded, 0);
        afterPause = generateAlone(loaded, PAUSE_NANOS);
        // Yardsticks with the same client: a bare Javalin handler that only calls generate() (and says how
        // long it took, as the server does), and one that does nothing.
        bareGenerating = bare(body, ctx -> {
          long start = System.nanoTime();
          String text = loaded.generate(PROMPT, 1, 0, 0, s -> true).text();
          ctx.header("Server-Timing", ApiServer.serverTiming(System.nanoTime() - start)).json(Map.of("text", text));
        });
        bareEmpty = bare(body, ctx -> ctx.json(Map.of("ok", true)));
      }
      out.printf(Locale.ROOT, "hit path (%s, max_tokens=1, %d requests, one kept-alive connection): end to end p50 %.2f ms,"
              + " p99 %.2f ms; its generate() (Server-Timing) p50 %.2f ms; overhead beyond its own generate() p50 %.2f ms,"
              + " p99 %.2f ms%n", model.name(), requests, ms(server.endToEnd, 0.5), ms(server.endToEnd, 0.99),
          ms(server.generate, 0.5), ms(server.beyondGenerate, 0.5), ms(server.beyondGenerate, 0.99));
      out.printf(Locale.ROOT, "generate() alone in a loop p50 %.2f ms, p99 %.2f ms; after a %d ms pause p50 %.2f ms, p99 %.2f ms"
              + " (the end to end p50 is %.2f ms beyond the loop's: a generation that follows idle time runs slower on this"
              + " machine, server or not)%n", ms(alone, 0.5), ms(alone, 0.99), PAUSE_NANOS / 1_000_000, ms(afterPause, 0.5),
          ms(afterPause, 0.99), ms(server.endToEnd, 0.5) - ms(alone, 0.5));
      out.printf(Locale.ROOT, "yardsticks, same client: a bare Javalin handler calling generate() p50 %.2f ms, p99 %.2f ms,"
              + " beyond its own generate() p50 %.2f ms, p99 %.2f ms; an empty bare handler p50 %.2f ms, p99 %.2f ms%n",
          ms(bareGenerating.endToEnd, 0.5), ms(bareGenerating.endToEnd, 0.99), ms(bareGenerating.beyondGenerate, 0.5),
          ms(bareGenerating.beyondGenerate, 0.99), ms(bareEmpty.endToEnd, 0.5), ms(bareEmpty.endToEnd, 0.99));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final String PROMPT = "user: hi\nassistant: ";
  /** The idle time before each generation in the second loop: about what a request's round trip leaves. */
  private static final long PAUSE_NANOS = 1_000_000;

  /** Sorted times of {@link #requests} calls of generate() after {@link #warmup}, each after {@code pauseNanos} idle. */
  private long[] generateAlone(LoadedModel loaded, long pauseNanos) {
    long[] times = new long[requests];
    for (int i = -warmup; i < requests; i++) {
      if (pauseNanos > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
      }
      long start = System.nanoTime();
      loaded.generate(PROMPT, 1, 0, 0, s -> true);
      if (i >= 0) {
        times[i] = System.nanoTime() - start;
      }
    }
    Arrays.sort(times);
    return times;
  }

  /**
   * Sorted per-request figures: end to end at the client; the generation's time the answer's
   * {@code Server-Timing} gave; and each request's end to end less its own generation (the server
   * around the model, and the client's round trip).
   */
  record Timings(long[] endToEnd, long[] generate, long[] beyondGenerate) {}

  /** {@link #requests} POSTs of {@code body} to the chat endpoint on {@code port}, after {@link #warmup}. */
  private Timings timed(int port, byte[] body) throws IOException {
    long[] times = new long[requests];
    long[] generate = new long[requests];
    long[] beyond = new long[requests];
    try (RawClient client = new RawClient(port)) {
      for (int i = -warmup; i < requests; i++) {
        long start = System.nanoTime();
        long generated = client.post("/v1/chat/completions", body);
        long took = System.nanoTime() - start;
        if (i >= 0) {
          times[i] = took;
          generate[i] = generated;
          beyond[i] = took - generated;
        }
      }
    }
    Arrays.sort(times);
    Arrays.sort(generate);
    Arrays.sort(beyond);
    return new Timings(times, generate, beyond);
  }

  /** {@link #timed} against a bare Javalin server whose chat endpoint is {@code handler}. */
  private Timings bare(byte[] body, io.javalin.http.Handler handler) throws IOException {
    io.javalin.Javalin app = io.javalin.Javalin.create(c -> c.showJavalinBanner = false)
        .post("/v1/chat/completions", handler).start("127.0.0.1", 0);
    try {
      return timed(app.port(), body);
    } finally {
      app.stop();
    }
  }

  /** HTTP/1.1 on one socket, kept alive; reads a response with a Content-Length or chunked to its end. */
  static final class RawClient implements AutoCloseable {
    private final java.net.Socket socket;
    private final java.io.InputStream in;
    private final java.io.OutputStream out;
    private final byte[] buffer = new byte[1 << 16];

    RawClient(int port) throws IOException {
      socket = new java.net.Socket("127.0.0.1", port);
      socket.setTcpNoDelay(true);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }

    /**
     * Sends a POST and reads the whole answer; fails unless the status is 200. Returns the generation's
     * time the answer's {@code Server-Timing: generate;dur=MS} header gave, in nanoseconds, or 0 without one.
     */
    long post(String path, byte[] body) throws IOException {
      byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      byte[] request = Arrays.copyOf(head, head.length + body.length);
      System.arraycopy(body, 0, request, head.length, body.length);
      out.write(request);
      out.flush();
      int filled = 0;
      int headerEnd = -1;
      while (headerEnd < 0) {
        int n = in.read(buffer, filled, buffer.length - filled);
        if (n < 0) {
          throw new IOException("the server closed the connection");
        }
        filled += n;
        headerEnd = indexOf(buffer, filled, "\r\n\r\n");
      }
      String headers = new String(buffer, 0, headerEnd, java.nio.charset.StandardCharsets.US_ASCII);
      if (!headers.startsWith("HTTP/1.1 200")) {
        throw new IllegalStateException("request failed: " + headers.lines().findFirst().orElse(""));
      }
      java.util.regex.Matcher m = CONTENT_LENGTH.matcher(headers);
      if (!m.find()) {
        throw new IllegalStateException("no Content-Length in the answer");
      }
      int total = headerEnd + 4 + Integer.parseInt(m.group(1));
      while (filled < total) {
        int n = in.read(buffer, filled, buffer.length - filled);
        if (n < 0) {
          throw new IOException("the server closed the connection");
        }
        filled += n;
      }
      java.util.regex.Matcher timing = SERVER_TIMING.matcher(headers);
      return timing.find() ? Math.round(Double.parseDouble(timing.group(1)) * 1e6) : 0;
    }

    // Compiled once: the client's own work is inside every time it measures.
    private static final java.util.regex.Pattern CONTENT_LENGTH = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)");
    private static final java.util.regex.Pattern SERVER_TIMING =
        java.util.regex.Pattern.compile("(?i)server-timing: *generate;dur=([0-9.]+)");

    private static int indexOf(byte[] bytes, int length, String text) {
      outer:
      for (int i = 0; i + text.length() <= length; i++) {
        for (int j = 0; j < text.length(); j++) {
          if (bytes[i + j] != text.charAt(j)) {
            continue outer;
          }
        }
        return i;
      }
      return -1;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static double ms(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
  }

  private void loadBandwidth(Path dir, PrintWriter out) {
    Path weights = dir.resolve(io.mlxcap.server.model.SynthModelFile.WEIGHTS);
    long bytes = weights.toFile().length();
    double bestRead = Double.MAX_VALUE;
    long[] loadNanos = new long[loads];
    try {
      for (int i = 0; i < loads; i++) {
        long start = System.nanoTime();
        try (FileChannel channel = FileChannel.open(weights, StandardOpenOption.READ)) {
          ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
          while (channel.read(buffer.clear()) > 0) {
            // read through
          }
        }
        bestRead = Math.min(bestRead, (System.nanoTime() - start) / 1e9);
        start = System.nanoTime();
        try (LoadedModel model = LoadedModel.load(dir)) {
          loadNanos[i] = System.nanoTime() - start;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    java.util.Arrays.sort(loadNanos);
    double bestLoad = loadNanos[0] / 1e9;
    out.printf(Locale.ROOT, "load %-34s %7.1f MB: load %.3f s = %.0f MB/s; raw read %.3f s = %.0f MB/s (load/raw %.1fx);"
        + " loads median %.3f s, worst %.3f s%n",
        dir.getFileName(), bytes / 1e6, bestLoad, bytes / 1e6 / bestLoad, bestRead, bytes / 1e6 / bestRead,
        bestLoad / bestRead, ms(loadNanos, 0.5) / 1e3, loadNanos[loads - 1] / 1e9);
  }
}
