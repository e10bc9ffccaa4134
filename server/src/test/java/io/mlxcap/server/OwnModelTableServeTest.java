package io.mlxcap.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.server.model.SynthModels;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, for {@code serve}: a models folder of one's own (84 models, none called {@code fast})
 * starts with MLX_PRELOAD_MODELS unset, preloads nothing with a one-line note, and serves its models.
 */
final class OwnModelTableServeTest {

  @Test
  void serve_aTableWithoutTheDefaultPreload_startsAndServes(@TempDir Path dir) throws Exception {
    List<ModelSpec> fleet = new ArrayList<>();
    for (int m = 0; m < 84; m++) {
      fleet.add(new ModelSpec(String.format(Locale.ROOT, "fleet-%02d:%db", m, 1 + m % 70), List.of(),
          SizeRange.exactly(2_000_000)));
    }
    Path models = dir.resolve("models");
    SynthModels.write(ModelTable.of(fleet), 1.0, 7, models);
    TestModels.dir(); // the DJL engine extracted under target/, as the server process will use it
    Path err = dir.resolve("stderr.txt");
    String javaCommand = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder builder = new ProcessBuilder(javaCommand, "-cp", System.getProperty("java.class.path"),
        "-Dai.djl.offline=true", "-Dmlxcap.djlCache=" + System.getProperty("ENGINE_CACHE_DIR", "target/djl-cache"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "io.mlxcap.server.ServerMain", "serve",
        "--models-dir", models.toString(), "--port", "0", "--trace", dir.resolve("t.jsonl").toString(),
        "--memory-sample", "0s");
    builder.environment().keySet().removeIf(k -> k.startsWith("MLX_"));
    builder.redirectError(err.toFile());
    Process process = builder.start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertTrue(line != null && line.startsWith("mlxcap serve: listening on http://127.0.0.1:"),
          line + " / " + Files.readString(err));
      assertTrue(line.contains("84 models"), line);
      int port = Integer.parseInt(line.replaceAll(".*:(\\d+),.*", "$1"));
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/generate"))
              .POST(HttpRequest.BodyPublishers.ofString(
                  "{\"model\":\"fleet-42:43b\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      List<String> notes = Files.readAllLines(err).stream().filter(l -> l.startsWith("mlxcap: ")).toList();
      assertEquals(List.of("mlxcap: warning: MLX_PRELOAD_MODELS is unset and its default 'fast' names no model of this"
          + " model table, so nothing is preloaded; set MLX_PRELOAD_MODELS to choose."), notes);
    } finally {
      process.destroy();
      process.waitFor(30, TimeUnit.SECONDS);
      process.destroyForcibly();
    }
  }
}
