package io.mlxcap.server.http;

import static io.mlxcap.server.http.Answering.output;
import static io.mlxcap.server.http.Answering.write;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.mlxcap.cache.CachedModel;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.http.Answering.Ask;
import io.mlxcap.server.http.Answering.JsonAnswer;
import io.mlxcap.server.http.Answering.Result;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Ollama API: {@code POST /api/chat} and {@code /api/generate} (NDJSON, or one JSON answer with
 * {@code "stream": false}; an empty prompt loads or unloads), {@code /api/show}, {@code /api/tags},
 * {@code /api/ps}, {@code /api/version} and the {@code GET /} probe. What a request asks for is read
 * here; how it waits and generates is {@link Answering}'s.
 */
final class OllamaApi {
  private static final List<String> ROLES = List.of("system", "user", "assistant", "tool");
  private static final String MODIFIED_AT = "2026-01-29T00:00:00Z";

  private final ModelHost host;
  private final Answering answering;
  private final long maxBodyBytes;

  OllamaApi(ModelHost host, Answering answering, long maxBodyBytes) {
    this.host = host;
    this.answering = answering;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** {@code GET /}: what Ollama clients probe. */
  void probe(Context ctx) {
    ctx.result("Ollama is running");
  }

  /** {@code GET /api/version}. */
  void version(Context ctx) {
    ctx.json(Map.of("version", "0.1.0-mlxcap"));
  }

  /** {@code /api/chat} ({@code chat}) or {@code /api/generate}. */
  void generate(Context ctx, boolean chat) {
    Body body = Body.read(ctx, maxBodyBytes);
    String asked = body.requiredString("model");
    JsonNode messages = body.node().get("messages");
    boolean empty = chat ? messages == null || messages.isNull() || messages.isArray() && messages.isEmpty()
        : body.node().path("prompt").asText("").isEmpty() && !body.node().path("prompt").isContainerNode();
    String prompt = empty ? "" : chat ? body.chatPrompt(ROLES) : body.requiredString("prompt");
    JsonNode opts = body.node().get("options");
    if (opts != null && !opts.isNull() && !opts.isObject()) {
      throw new BadRequest("'options' must be an object");
    }
    int maxTokens = Body.integer(opts, "num_predict", "options.num_predict", 32, 1, ApiServer.MAX_TOKENS_LIMIT);
    Ask ask = new Ask(prompt, maxTokens, Body.number(opts, "temperature", "options.temperature", 0.8, 0, 2),
        Body.integer(opts, "seed", "options.seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE),
        body.stopSequences(opts, "stop", "options.stop"));
    long keepAlive = body.keepAlive();
    boolean stream = body.bool("stream", true);
    ModelSpec spec = host.resolve(asked);
    if (empty) {
      loadOrUnload(ctx, chat, asked, spec, keepAlive);
      return;
    }
    long arrived = System.nanoTime();
    ModelHost.Admission admission = host.admit(asked, spec, Answering.promptTokens(prompt), maxTokens, keepAlive);
    answering.whenStarted(ctx, admission, lease -> answer(ctx, lease, chat, asked, ask, stream, arrived));
  }

  /**
   * Ollama's empty prompt: load the model (and keep it as {@code keep_alive} says), or with
   * {@code keep_alive: 0} unload it once idle; either goes through the cache as a request that
   * generates nothing, so the trace and a replay see it as it happened. A model not loaded is not
   * loaded to be unloaded.
   */
  private void loadOrUnload(Context ctx, boolean chat, String asked, ModelSpec spec, long keepAlive) {
    boolean unload = keepAlive == 0;
    if (!unload || host.isCached(spec.name())) {
      try (ModelHost.Lease lease = host.begin(asked, spec, 0, 0, keepAlive)) {
        lease.succeeded(0);
      }
    }
    ObjectNode out = line(asked, chat, "", true);
    out.put("done_reason", unload ? "unload" : "load");
    ctx.json(out);
  }

  private void answer(Context ctx, ModelHost.Lease lease, boolean chat, String asked, Ask ask, boolean stream,
      long arrived) throws IOException {
    long loadNanos = System.nanoTime() - arrived;
    OutputStream out = stream ? output(ctx.contentType("application/x-ndjson")) : null;
    JsonAnswer answer = stream ? null : new JsonAnswer(ctx);
    Result r = Answering.generate(lease, ask, stream ? piece -> write(out, line(asked, chat, piece, false) + "\n") : null,
        stream ? null : answer::heartbeat);
    ObjectNode last = line(asked, chat, stream ? "" : r.text(), true);
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

  private static ObjectNode line(String model, boolean chat, String text, boolean done) {
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

  /** {@code POST /api/show}: one model's details and context length. */
  void show(Context ctx) {
    Body body = Body.read(ctx, maxBodyBytes);
    String asked = body.node().has("model") ? body.requiredString("model") : body.requiredString("name");
    ModelSpec spec = host.resolve(asked);
    ObjectNode out = Body.JSON.createObjectNode();
    out.put("modelfile", "# mlxcap synthetic model\nFROM " + spec.name() + "\n");
    out.put("parameters", "");
    out.put("template", "{{ .Prompt }}");
    details(out.putObject("details"), spec);
    ObjectNode info = out.putObject("model_info");
    info.put("general.architecture", "mlxcap");
    info.put("general.parameter_count", spec.size().expectedBytes() / 4);
    if (spec.details().contextTokens() > 0) {
      info.put("mlxcap.context_length", spec.details().contextTokens());
    }
    out.putArray("capabilities").add("completion");
    out.put("modified_at", MODIFIED_AT);
    ctx.json(out);
  }

  /** {@code GET /api/tags}: the models served. */
  void tags(Context ctx) {
    ObjectNode out = Body.JSON.createObjectNode();
    ArrayNode models = out.putArray("models");
    for (ModelSpec m : host.table().models()) {
      ObjectNode model = models.addObject();
      describe(model, m);
      model.put("modified_at", MODIFIED_AT);
    }
    ctx.json(out);
  }

  /** {@code GET /api/ps}: the resident models, their size and when they expire. */
  void ps(Context ctx) {
    ModelHost.Snapshot snapshot = host.snapshot();
    ObjectNode out = Body.JSON.createObjectNode();
    ArrayNode models = out.putArray("models");
    Instant now = Instant.now();
    for (CachedModel c : snapshot.models()) {
      if (c.loading()) {
        continue;
      }
      ObjectNode model = models.addObject();
      describe(model, host.table().resolve(c.model()));
      model.put("size", c.bytes());
      model.put("size_vram", 0);
      // The core says when the cleanup tick may unload it: its keep-alive or the idle TTL; never while in use.
      Instant expires = c.expiresAtNanos() == Long.MAX_VALUE ? Instant.parse("2318-01-01T00:00:00Z")
          : now.plusNanos(Math.max(0, c.expiresAtNanos() - snapshot.nowNanos()));
      model.put("expires_at", expires.toString());
    }
    ctx.json(out);
  }

  private static void describe(ObjectNode model, ModelSpec spec) {
    model.put("name", spec.name());
    model.put("model", spec.name());
    model.put("size", spec.size().expectedBytes());
    model.put("digest", Integer.toHexString(spec.name().hashCode()));
    details(model.putObject("details"), spec);
  }

  private static void details(ObjectNode details, ModelSpec spec) {
    details.put("format", "mlxcap-synth");
    details.put("family", "mlxcap");
    details.putArray("families").add("mlxcap");
    details.put("parameter_size", String.format(Locale.ROOT, "%.1fM", spec.size().expectedBytes() / 4e6));
    details.put("quantization_level", "F32");
  }
}
