package io.mlxcap.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed reports are what today's code makes of the committed traces, read as a reader would:
 * the seed day's report regenerates byte for byte from the command it prints; its page is
 * self-contained; and a real browser shows every chart with no error.
 */
final class CommittedReportTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static final Path SEED = REPO.resolve("reports/seed-scenario");
  private static final List<String> CHARTS =
      List.of("rss-over-time.png", "pareto.png", "cold-start-cdf.png", "loads-vs-cap.png", "residency.png");

  @TempDir Path dir;

  /** The command a report prints under "Reproduce". */
  static List<String> reproduceCommand(Path report) throws Exception {
    String md = Files.readString(report.resolve("report.md"));
    Matcher m = Pattern.compile("## Reproduce\\n\\n.*?\\n\\n```\\n(.*?)\\n```", Pattern.DOTALL).matcher(md);
    assertTrue(m.find(), "a Reproduce section with a command");
    List<String> args = new ArrayList<>(List.of(m.group(1).split(" ")));
    assertEquals("./mlxcap", args.remove(0));
    return args;
  }

  @Test
  void seedScenario_regeneratesFromItsOwnCommand_byteForByte() throws Exception {
    List<String> args = reproduceCommand(SEED);
    assertEquals(List.of("report", "--trace", "traces/samples/seed-scenario.jsonl", "--policy",
        "mlx,mlx-seed,ollama,llama-router,lmstudio,llama-swap,localai"), args);
    args.set(2, REPO.resolve(args.get(2)).toString());
    args.addAll(List.of("-o", dir.resolve("again").toString()));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = io.mlxcap.cli.TestAccess.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
    assertEquals(0, code, err.toString());
    for (String file : List.of("report.md", "sweep.csv", "sweep.json", "servers.csv")) {
      // The test runs from simulator/, so it names the trace by its absolute path; the report's reader by the relative one.
      String again = Files.readString(dir.resolve("again").resolve(file)).replace(REPO + "/", "");
      assertEquals(Files.readString(SEED.resolve(file)), again, file);
    }
    for (String chart : CHARTS) {
      BufferedImage image = ImageIO.read(dir.resolve("again").resolve(chart).toFile());
      assertNotNull(image, chart);
      assertTrue(image.getWidth() >= 1000 && image.getHeight() >= 500, chart + " " + image.getWidth() + "x" + image.getHeight());
    }
  }

  @Test
  void seedScenario_saysTheSeedsLessonAndScoresItsAdvice() throws Exception {
    String md = Files.readString(SEED.resolve("report.md"));
    assertTrue(md.contains("## A count cap does not bound memory; a byte budget does"), md);
    assertTrue(md.contains("reached with `deepseek-r1-distill-llama:70b` and `command-r-plus:104b` in memory together"), md);
    for (String advice : List.of("before the fix", "the fix's defaults", "lowest peak: cap 1, no preload",
        "first-request latency: cap 3, preload default,fast", "preload off", "periodic cleanup off", "**recommended**")) {
      assertTrue(md.contains("| " + advice + " |"), advice);
    }
    assertTrue(md.contains("export MLX_MAX_CACHE_BYTES="), "the recommendation sets a byte budget on the seed day");
    JsonNode json = new ObjectMapper().readTree(SEED.resolve("sweep.json").toFile());
    assertEquals(38, json.get("configurations").size(), "32 on the default grid and the seed note's 6");
  }

  /**
   * The seed day compared across servers: one row per policy, each best configuration in its own
   * server's terms (the seed's server only in its three variables), within the one budget.
   */
  @Test
  void seedScenario_comparesTheServers_eachInItsOwnTerms() throws Exception {
    String md = Files.readString(SEED.resolve("report.md"));
    assertTrue(md.contains("## Other servers on the same traffic"), md);
    List<String> csv = Files.readAllLines(SEED.resolve("servers.csv"));
    assertEquals(List.of("mlx", "mlx-seed", "ollama", "llama-router", "lmstudio", "llama-swap", "localai"),
        csv.subList(1, csv.size()).stream().map(l -> l.split(",")[0]).toList());
    for (String line : csv.subList(1, csv.size() - 1)) {
      assertTrue(line.contains(",true,"), "every server but LocalAI has a best within the budget: " + line);
    }
    // LocalAI goes past its limit while loads are in progress: no setting of its grid fits, and the
    // comparison says so rather than leaving it out.
    assertTrue(csv.get(7).startsWith("localai,\"export LOCALAI_MAX_ACTIVE_BACKENDS=1\",false,"),
        csv.get(7));
    assertTrue(md.contains("| LocalAI (`localai`), over the budget |"), md);
    assertTrue(csv.get(1).contains("export MLX_MAX_CACHE_BYTES="), csv.get(1));
    assertTrue(!csv.get(2).contains("MLX_MAX_CACHE_BYTES") && !csv.get(2).contains("MLX_MODEL_IDLE_TTL_SEC"),
        "the seed's server is advised in its own three variables only: " + csv.get(2));
    assertTrue(csv.get(3).contains("OLLAMA_") || csv.get(3).contains("the defaults"), csv.get(3));
    assertTrue(csv.get(4).startsWith("llama-router,\"llama-server --models-dir DIR --models-max "), csv.get(4));
    assertTrue(md.contains("Requests served at once are each server's own (mlx 1, mlx-seed 1, ollama 1, llama-router 4,"
        + " lmstudio 4, llama-swap all it admits, localai 1024)"), "the comparison states its caveat");
  }

  @Test
  void indexHtml_isSelfContained_chartsEmbeddedAsTheFilesBesideIt() throws Exception {
    for (String report : List.of("reports/seed-scenario", "reports/azure-2023")) {
      Path folder = REPO.resolve(report);
      String html = Files.readString(folder.resolve("index.html"));
      Matcher img = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
      List<byte[]> embedded = new ArrayList<>();
      while (img.find()) {
        embedded.add(Base64.getDecoder().decode(img.group(1)));
      }
      assertEquals(CHARTS.size(), embedded.size(), report);
      for (int i = 0; i < CHARTS.size(); i++) {
        assertArrayEquals(Files.readAllBytes(folder.resolve(CHARTS.get(i))), embedded.get(i), report + " " + CHARTS.get(i));
        assertNotNull(ImageIO.read(new ByteArrayInputStream(embedded.get(i))));
      }
      assertTrue(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"),
          report + " fetches nothing and runs nothing");
    }
  }

  /**
   * Debian's chromium (installed by .ci/run) opening the committed pages through playwright-core.
   * Under MLXCAP_REQUIRE_TOOLS (.ci/run sets it) missing tools fail the test; elsewhere it is skipped
   * with one printed line.
   */
  @Test
  void aRealBrowser_showsEveryChart_withNoError() throws Exception {
    Path script = REPO.resolve("clients/check-report.mjs");
    boolean ready = Files.isExecutable(Path.of("/usr/bin/chromium"))
        && Files.isDirectory(REPO.resolve("clients/node_modules/playwright-core"));
    if (System.getenv("MLXCAP_REQUIRE_TOOLS") != null && !ready) {
      throw new AssertionError("MLXCAP_REQUIRE_TOOLS is set but /usr/bin/chromium or clients/node_modules is missing"
          + " (.ci/run installs both)");
    }
    if (!ready) {
      System.out.println("skipped: the report pages in a real browser (needs /usr/bin/chromium and cd clients && npm ci)");
    }
    assumeTrue(ready, "needs /usr/bin/chromium and clients/node_modules (cd clients && npm ci)");
    for (String report : List.of("reports/seed-scenario", "reports/azure-2023")) {
      Process p = new ProcessBuilder("node", script.toString(), REPO.resolve(report).resolve("index.html").toString(),
          dir.resolve("page.png").toString()).redirectErrorStream(true).start();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the browser check finished");
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertEquals(0, p.exitValue(), output);
      JsonNode result = new ObjectMapper().readTree(output.lines().reduce((a, b) -> b).orElse("{}"));
      assertEquals(5, result.get("images").asInt(), output);
      assertEquals(0, result.get("broken").size(), output);
      assertEquals(0, result.get("consoleErrors").size(), output);
      assertEquals(0, result.get("failedRequests").size(), output);
      assertTrue(Files.size(dir.resolve("page.png")) > 100_000, "a full-page screenshot was taken");
    }
  }
}
