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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
        + "max_tokens=1 on the smallest model, against the time generate() alone takes, so the difference is the "
        + "server's overhead (HTTP, JSON, queue, cache); (2) for each model, load time and effective bandwidth "
        + "against a raw read of the same weights file, in the same run (page cache warm for both).")
final class BenchServerCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--models-dir", required = true, paramLabel = "DIR", description = "Models built by synth-models.")
  Path modelsDir;

  @Option(names = "--requests", defaultValue = "500", paramLabel = "N", description = "Hit-path requests. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(names = "--loads", defaultValue = "3", paramLabel = "N", description = "Loads and reads per model. Default: ${DEFAULT-VALUE}.")
  int loads;

  @Override
  public void run() {
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
      HttpClient client = HttpClient.newHttpClient();
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model.name()
              + "\",\"max_tokens\":1,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build();
      long[] http = new long[requests];
      for (int i = -50; i < requests; i++) {
        long start = System.nanoTime();
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          throw new IllegalStateException("request failed: " + r.body());
        }
        if (i >= 0) {
          http[i] = System.nanoTime() - start;
        }
      }
      long[] generate = new long[requests];
      try (LoadedModel loaded = LoadedModel.load(modelsDir.resolve(SynthModelFile.directoryFor(model.name())))) {
        for (int i = -50; i < requests; i++) {
          long start = System.nanoTime();
          loaded.generate("user: hi\nassistant: ", 1, 0, 0, s -> true);
          if (i >= 0) {
            generate[i] = System.nanoTime() - start;
          }
        }
      }
      Arrays.sort(http);
      Arrays.sort(generate);
      out.printf(Locale.ROOT, "hit path (%s, max_tokens=1, %d requests): end to end p50 %.2f ms, p99 %.2f ms;"
              + " generate() alone p50 %.2f ms, p99 %.2f ms; overhead p50 %.2f ms, p99 %.2f ms%n",
          model.name(), requests, ms(http, 0.5), ms(http, 0.99), ms(generate, 0.5), ms(generate, 0.99),
          ms(http, 0.5) - ms(generate, 0.5), ms(http, 0.99) - ms(generate, 0.99));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static double ms(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
  }

  private void loadBandwidth(Path dir, PrintWriter out) {
    Path weights = dir.resolve(io.mlxcap.server.model.SynthModelFile.WEIGHTS);
    long bytes = weights.toFile().length();
    double bestRead = Double.MAX_VALUE;
    double bestLoad = Double.MAX_VALUE;
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
          bestLoad = Math.min(bestLoad, (System.nanoTime() - start) / 1e9);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.printf(Locale.ROOT, "load %-34s %7.1f MB: load %.3f s = %.0f MB/s; raw read %.3f s = %.0f MB/s (load/raw %.1fx)%n",
        dir.getFileName(), bytes / 1e6, bestLoad, bytes / 1e6 / bestLoad, bestRead, bytes / 1e6 / bestRead,
        bestLoad / bestRead);
  }
}
