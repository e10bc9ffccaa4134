package io.mlxcap.drive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mlxcap.InvalidInputException;
import io.mlxcap.sim.LogHistogram;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceReader;
import io.mlxcap.trace.TraceWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replays a trace's arrivals against a live OpenAI- or Ollama-compatible server, <b>open loop</b>: each
 * request is sent at its time (divided by the speed-up) whether or not earlier ones have answered,
 * with the trace's model, a prompt of its prompt length and its output length as the token limit;
 * answers are streamed, so the time to the first byte is the wait before generation. Records what the
 * client saw, and optionally writes it as a v1 trace.
 */
public final class Driver {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern OPENAI_TOKENS = Pattern.compile("\"completion_tokens\"\\s*:\\s*(\\d+)");
  private static final Pattern OLLAMA_TOKENS = Pattern.compile("\"eval_count\"\\s*:\\s*(\\d+)");
  private static final String FILLER = "the quick brown fox jumps over the lazy dog and the model reads on ";
  /** The longest prompt drive writes: past it a trace line is refused, not turned into gigabytes of text. */
  static final long MAX_PROMPT_CHARS = 8L << 20;

  /** Which API to speak. */
  public enum Api {
    OPENAI, OLLAMA
  }

  /**
   * How to drive.
   *
   * @param charsPerToken characters of prompt per token of the trace (1 for mlxcap's byte-level models)
   * @param clientTrace where to write what the client saw, or null
   */
  public record Options(URI base, Api api, double speedup, long limit, String apiKey, int charsPerToken, Path clientTrace) {}

  /** One request as the client saw it. */
  record Outcome(int status, String failure, long scheduledNanos, long sentNanos, long firstByteNanos, long doneNanos,
      long outputTokens) {}

  /**
   * What the client saw.
   *
   * @param serverDown true when the server stopped answering midway (the rest were not sent)
   */
  public record Summary(long scheduled, long sent, long ok, Map<String, Long> errors, long[] latencies, long[] firstBytes,
      long[] lags, long wallNanos, boolean serverDown) {}

  private final Options options;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public Driver(Options options) {
    if (!(options.speedup() > 0) || Double.isInfinite(options.speedup())) {
      throw new InvalidInputException("--speedup must be a number above 0, was " + options.speedup());
    }
    if (options.limit() < 0) {
      throw new InvalidInputException("--limit must be at least 0, was " + options.limit());
    }
    if (options.charsPerToken() < 1 || options.charsPerToken() > 16) {
      throw new InvalidInputException("--chars-per-token must be from 1 to 16, was " + options.charsPerToken());
    }
    String scheme = options.base().getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || options.base().getHost() == null) {
      throw new InvalidInputException("--url '" + options.base() + "' is not an http:// or https:// URL with a host");
    }
    this.options = options;
  }

  /** The requests of {@code trace} to send: the first {@code --limit} (all when 0). */
  public List<TraceEvent.Request> requests(Path trace) {
    List<TraceEvent.Request> requests = new ArrayList<>();
    try (TraceReader reader = TraceReader.open(trace, TraceReader.Mode.STRICT)) {
      for (TraceEvent e = reader.next(); e != null && (options.limit() == 0 || requests.size() < options.limit()); e = reader.next()) {
        if (e instanceof TraceEvent.Request r) {
          if (tokens(r.promptTokens()) * options.charsPerToken() > MAX_PROMPT_CHARS) {
            throw new InvalidInputException("the request at t_ms " + r.timeNanos() / 1_000_000 + " asks for a prompt of "
                + r.promptTokens() + " tokens, over the " + MAX_PROMPT_CHARS + " characters drive writes");
          }
          requests.add(r);
        }
      }
    }
    if (requests.isEmpty()) {
      throw new InvalidInputException(trace + " has no request lines to send");
    }
    return requests;
  }

  /**
   * Checks the server answers and serves every model the requests name.
   *
   * @throws InvalidInputException one sentence: unreachable, not the API asked for, or a model it lacks
   */
  public void check(List<TraceEvent.Request> requests) {
    String path = options.api() == Api.OPENAI ? "/v1/models" : "/api/tags";
    HttpResponse<String> r;
    try {
      r = client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new InvalidInputException("cannot reach " + options.base() + ": connection refused; is the server running?");
    } catch (IOException e) {
      throw new InvalidInputException("cannot reach " + options.base() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InvalidInputException("interrupted while reaching " + options.base());
    }
    if (r.statusCode() == 401) {
      throw new InvalidInputException(options.base() + " wants an API key: pass --api-key or set MLX_API_KEY");
    }
    Set<String> served = new LinkedHashSet<>();
    try {
      JsonNode root = JSON.readTree(r.body());
      JsonNode list = options.api() == Api.OPENAI ? root.path("data") : root.path("models");
      for (JsonNode m : list) {
        for (String field : List.of("id", "name", "model")) {
          if (m.path(field).isTextual()) {
            served.add(m.get(field).asText());
          }
        }
      }
    } catch (IOException e) {
      served.clear();
    }
    if (r.statusCode() != 200 || served.isEmpty()) {
      throw new InvalidInputException(options.base() + path + " answered " + r.statusCode() + " without a model list: is it an "
          + (options.api() == Api.OPENAI ? "OpenAI" : "Ollama") + "-compatible server (--api)?");
    }
    for (TraceEvent.Request q : requests) {
      if (!served.contains(q.model()) && !served.contains(q.model() + ":latest")) {
        throw new InvalidInputException("the server has no model '" + q.model() + "' (the trace asks for it at t_ms "
            + q.timeNanos() / 1_000_000 + "); it has: " + String.join(", ", served));
      }
    }
  }

  /** Sends {@code requests} on their schedule and waits for every answer; {@code progress} gets one step per answer. */
  public Summary run(List<TraceEvent.Request> requests, IntConsumer progress) {
    long origin = requests.get(0).timeNanos();
    long start = System.nanoTime();
    Outcome[] outcomes = new Outcome[requests.size()];
    AtomicBoolean down = new AtomicBoolean();
    TraceWriter writer = options.clientTrace() == null ? null : TraceWriter.buffered(options.clientTrace(),
        new TraceHeader(Optional.of(Instant.now().toString()), Optional.of("mlxcap drive " + options.base()), 0, 0, Map.of(),
            Optional.empty()));
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    Map<Integer, Long> firstByte = new ConcurrentHashMap<>();
    int sent = 0;
    try {
      for (int i = 0; i < requests.size() && !down.get(); i++) {
        TraceEvent.Request q = requests.get(i);
        long scheduled = start + Math.round((q.timeNanos() - origin) / options.speedup());
        for (long wait = scheduled - System.nanoTime(); wait > 0; wait = scheduled - System.nanoTime()) {
          LockSupport.parkNanos(wait);
        }
        long sentAt = System.nanoTime();
        String id = "c" + (i + 1);
        if (writer != null) {
          writer.write(new TraceEvent.Request(sentAt - start, id, q.model(), tokens(q.promptTokens()), maxTokens(q),
              TraceEvent.UNKNOWN, TraceEvent.UNKNOWN, q.keepAliveNanos()));
        }
        int index = i;
        sent++;
        pending.add(client.sendAsync(generate(q), info -> {
          firstByte.put(index, System.nanoTime());
          return HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
        }).handle((response, failure) -> {
          long done = System.nanoTime();
          Outcome o;
          if (failure != null) {
            Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof ConnectException) {
              down.set(true);
            }
            o = new Outcome(0, cause instanceof HttpTimeoutException ? "timeout"
                : cause instanceof ConnectException ? "connection refused" : "connection lost", scheduled, sentAt, -1, done, -1);
          } else {
            Matcher m = (options.api() == Api.OPENAI ? OPENAI_TOKENS : OLLAMA_TOKENS).matcher(response.body());
            long tokens = -1;
            while (m.find()) {
              tokens = Long.parseLong(m.group(1));
            }
            o = new Outcome(response.statusCode(), null, scheduled, sentAt, firstByte.getOrDefault(index, done), done, tokens);
          }
          outcomes[index] = o;
          if (writer != null) {
            TraceEvent.Status status = o.status() == 200 ? TraceEvent.Status.OK
                : o.status() == 503 || o.status() == 429 ? TraceEvent.Status.REJECTED : TraceEvent.Status.ERROR;
            writer.write(new TraceEvent.RequestDone(done - start, id, status, TraceEvent.UNKNOWN, TraceEvent.UNKNOWN,
                TraceEvent.UNKNOWN, o.outputTokens() < 0 ? TraceEvent.UNKNOWN : o.outputTokens(),
                o.status() == 200 ? null : o.failure() != null ? o.failure() : "HTTP " + o.status()));
          }
          progress.accept(1);
          return null;
        }));
      }
      CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])).join();
    } finally {
      if (writer != null) {
        writer.write(new TraceEvent.End(System.nanoTime() - start));
        writer.close();
      }
    }
    return summarize(requests.size(), sent, outcomes, System.nanoTime() - start, down.get());
  }

  private static Summary summarize(int scheduled, int sent, Outcome[] outcomes, long wall, boolean down) {
    long ok = 0;
    Map<String, Long> errors = new TreeMap<>();
    List<Long> latencies = new ArrayList<>();
    List<Long> firstBytes = new ArrayList<>();
    List<Long> lags = new ArrayList<>();
    for (Outcome o : outcomes) {
      if (o == null) {
        continue;
      }
      lags.add(o.sentNanos() - o.scheduledNanos());
      if (o.status() == 200) {
        ok++;
        latencies.add(o.doneNanos() - o.sentNanos());
        firstBytes.add(o.firstByteNanos() - o.sentNanos());
      } else {
        errors.merge(o.status() == 0 ? o.failure() : Integer.toString(o.status()), 1L, Long::sum);
      }
    }
    return new Summary(scheduled, sent, ok, errors, sorted(latencies), sorted(firstBytes), sorted(lags), wall, down);
  }

  private static long[] sorted(List<Long> values) {
    long[] a = values.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a;
  }

  private static long tokens(long t) {
    return t == TraceEvent.UNKNOWN ? 16 : t;
  }

  private static long maxTokens(TraceEvent.Request q) {
    long out = q.outputTokens() != TraceEvent.UNKNOWN ? q.outputTokens() : q.maxTokens();
    return Math.max(1, out == TraceEvent.UNKNOWN ? 16 : out);
  }

  private HttpRequest.Builder request(String path) {
    String base = options.base().toString().replaceAll("/+$", "");
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(30));
    if (options.apiKey() != null && !options.apiKey().isEmpty()) {
      b.header("Authorization", "Bearer " + options.apiKey());
    }
    return b;
  }

  /** The request that stands for {@code q}: its model, a prompt of its length, its output as the limit, streamed. */
  private HttpRequest generate(TraceEvent.Request q) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", q.model());
    body.put("prompt", prompt((int) (tokens(q.promptTokens()) * options.charsPerToken())));
    body.put("stream", true);
    String path;
    if (options.api() == Api.OPENAI) {
      path = "/v1/completions";
      body.put("max_tokens", maxTokens(q));
    } else {
      path = "/api/generate";
      body.putObject("options").put("num_predict", maxTokens(q));
      if (q.keepAliveNanos() == TraceEvent.KEEP_ALIVE_FOREVER) {
        body.put("keep_alive", -1);
      } else if (q.keepAliveNanos() != TraceEvent.UNKNOWN) {
        body.put("keep_alive", q.keepAliveNanos() / 1e9);
      }
    }
    return request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
  }

  private static String prompt(int chars) {
    StringBuilder b = new StringBuilder(chars);
    while (b.length() < chars) {
      b.append(FILLER, 0, Math.min(FILLER.length(), chars - b.length()));
    }
    return b.toString();
  }

  /** The summary as lines for people. */
  public static List<String> describe(Summary s) {
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT, "sent          %d of %d in %.1f s; ok %d; errors %s", s.sent(), s.scheduled(), s.wallNanos() / 1e9,
        s.ok(), s.errors().isEmpty() ? "none" : String.join(", ", s.errors().entrySet().stream()
            .map(e -> e.getKey() + " ×" + e.getValue()).toList())));
    if (s.latencies().length > 0) {
      out.add("latency       " + percentiles(s.latencies()));
      out.add("first byte    " + percentiles(s.firstBytes()));
    }
    if (s.lags().length > 0) {
      out.add("behind        " + percentiles(s.lags()) + " behind schedule (when each request was sent)");
    }
    if (s.serverDown()) {
      out.add("server        stopped answering midway: the requests after that were not sent");
    }
    return out;
  }

  private static String percentiles(long[] sorted) {
    return String.format(Locale.ROOT, "p50 %s, p95 %s, p99 %s, max %s", time(LogHistogram.nearestRank(sorted, 0.5)),
        time(LogHistogram.nearestRank(sorted, 0.95)), time(LogHistogram.nearestRank(sorted, 0.99)), time(sorted[sorted.length - 1]));
  }

  private static String time(long nanos) {
    return nanos < 1_000_000_000L ? String.format(Locale.ROOT, "%.1f ms", nanos / 1e6) : String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }

  /** Thrown when the server stopped answering midway; the summary was printed first. */
  public static UncheckedIOException serverDown(URI base) {
    return new UncheckedIOException(base + " stopped answering midway (connection refused); the summary above is what was seen",
        new IOException("server down"));
  }
}
