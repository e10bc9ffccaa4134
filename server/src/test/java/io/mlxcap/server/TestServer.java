package io.mlxcap.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlxcap.model.ModelTable;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.host.ServerMetrics;
import io.mlxcap.server.http.ApiServer;
import io.mlxcap.settings.Settings;
import io.mlxcap.time.Ticker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** A real server on a free port over the test models, with settings of the test's choosing. */
public final class TestServer implements AutoCloseable {
  public static final ObjectMapper JSON = new ObjectMapper();
  public final ModelHost host;
  public final ApiServer api;
  public final int port;
  public final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String apiKey;

  public TestServer(Path modelsDir, Path trace, String apiKey, String... env) {
    this(Ticker.system(), modelsDir, trace, apiKey, env);
  }

  /** A server whose host reads {@code ticker}: a FakeTicker makes idle times and keep-alives the test's to decide. */
  public TestServer(Ticker ticker, Path modelsDir, Path trace, String apiKey, String... env) {
    Map<String, String> map = new HashMap<>(Map.of("MLX_PRELOAD_MODELS", "", "MLX_MEMORY_PRESSURE_THRESHOLD", "off"));
    for (int i = 0; i < env.length; i += 2) {
      map.put(env[i], env[i + 1]);
    }
    ModelTable table = ModelTable.load(modelsDir.resolve("models.json"));
    // Ollama's variables make it an Ollama server (serve --policy ollama); the MLX_* defaults above are then not read.
    Settings settings = Settings.fromEnv(io.mlxcap.settings.ServerPolicy.of(map), map, table);
    this.apiKey = apiKey;
    host = new ModelHost(settings, table, modelsDir, ticker, trace, new ServerMetrics());
    host.start(Duration.ZERO);
    api = new ApiServer(host, new ApiServer.Options("127.0.0.1", 0, apiKey, 64 * 1024));
    port = api.start();
  }

  /** A server over the shared test models. */
  public static TestServer start(Path trace, String... env) {
    return new TestServer(TestModels.dir(), trace, null, env);
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  public HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120));
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return b;
  }

  public HttpResponse<String> get(String path) {
    return send(request(path).GET().build());
  }

  public HttpResponse<String> post(String path, String body) {
    return send(request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  public HttpResponse<String> send(HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static JsonNode json(HttpResponse<String> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(response.body(), e);
    }
  }

  @Override
  public void close() {
    api.close();
    host.close();
  }
}
