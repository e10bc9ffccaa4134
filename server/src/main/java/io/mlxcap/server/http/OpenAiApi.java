package io.mlxcap.server.http;

import static io.mlxcap.server.http.Answering.output;
import static io.mlxcap.server.http.Answering.write;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.mlxcap.cache.ModelCache;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.server.host.ModelHost;
import io.mlxcap.server.http.Answering.Ask;
import io.mlxcap.server.http.Answering.JsonAnswer;
import io.mlxcap.server.http.Answering.Result;
import io.mlxcap.server.model.LoadedModel;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The OpenAI API: {@code POST /v1/chat/completions}, {@code POST /v1/completions} (a JSON answer, or
 * server-sent events with {@code "stream": true}), {@code GET /v1/models} and {@code GET /v1/models/{id}}.
 * What a request asks for is read here; how it waits and generates is {@link Answering}'s.
 */
final class OpenAiApi {
  private static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "tool", "function");

  private final ModelHost host;
  private final Answering answering;
  private final long maxBodyBytes;

  OpenAiApi(ModelHost host, Answering answering, long maxBodyBytes) {
    this.host = host;
    this.answering = answering;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** A chat completion ({@code chat}) or a text completion. */
  void complete(Context ctx, boolean chat) {
    Body body = Body.read(ctx, maxBodyBytes);
    String asked = body.requiredString("model");
    String prompt = chat ? body.chatPrompt(ROLES) : completionPrompt(body.node());
    JsonNode n = body.node();
    String tokensField = n.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    int maxTokens = Body.integer(n, tokensField, tokensField, chat ? 32 : 16, 1, ApiServer.MAX_TOKENS_LIMIT);
    int choices = Body.integer(n, "n", "n", 1, 1, Integer.MAX_VALUE);
    if (choices != 1) {
      throw new BadRequest("'n' must be 1: this server returns one choice per request, was " + choices);
    }
    Ask ask = new Ask(prompt, maxTokens, Body.number(n, "temperature", "temperature", 1.0, 0, 2),
        Body.integer(n, "seed", "seed", 0, Integer.MIN_VALUE, Integer.MAX_VALUE), body.stopSequences(n, "stop", "stop"));
    boolean stream = body.bool("stream", false);
    ModelSpec spec = host.resolve(asked);
    long created = Instant.now().getEpochSecond();
    // LM Studio's OpenAI endpoints take a ttl (seconds idle before unloading); the others have no such field.
    long keepAlive = host.settings().policy() == io.mlxcap.settings.ServerPolicy.LMSTUDIO ? body.ttl()
        : ModelCache.KEEP_ALIVE_DEFAULT;
    ModelHost.Admission admission = host.admit(asked, spec, Answering.promptTokens(prompt), maxTokens, keepAlive);
    answering.whenStarted(ctx, admission,
        lease -> answer(ctx, lease, chat, (chat ? "chatcmpl-" : "cmpl-") + lease.id(), created, asked, ask, stream));
  }

  private void answer(Context ctx, ModelHost.Lease lease, boolean chat, String responseId, long created,
      String asked, Ask ask, boolean stream) throws IOException {
    if (!stream) {
      JsonAnswer answer = new JsonAnswer(ctx);
      Result r = Answering.generate(lease, ask, null, answer::heartbeat);
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
    Result r = Answering.generate(lease, ask, piece -> send.accept(
        chat ? chunk(responseId, created, asked, true, delta -> delta.put("content", piece), null)
            : chunk(responseId, created, asked, false, c -> c.put("text", piece), null)), null);
    ObjectNode last = chunkNode(responseId, created, asked, chat,
        chat ? delta -> { } : c -> c.put("text", ""), r.finishReason());
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
    return chunkNode(id, created, model, chat, fill, finish).toString();
  }

  /** One streamed piece: a chat delta ({@code fill} fills the delta) or a completion's choice ({@code fill} fills the choice). */
  private static ObjectNode chunkNode(String id, long created, String model, boolean chat, Consumer<ObjectNode> fill,
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
    return out;
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

  /** {@code GET /v1/models}: every model under its name and each alias. */
  void models(Context ctx) {
    ObjectNode out = Body.JSON.createObjectNode();
    out.put("object", "list");
    ArrayNode data = out.putArray("data");
    for (ModelSpec m : host.table().models()) {
      List<String> names = new ArrayList<>();
      names.add(m.name());
      names.addAll(m.aliases());
      for (String name : names) {
        model(data.addObject(), name);
      }
    }
    ctx.json(out);
  }

  /** {@code GET /v1/models/{id}}: 404 for a name the host does not know. */
  void model(Context ctx) {
    String id = ctx.pathParam("id");
    host.resolve(id);
    ctx.json(model(Body.JSON.createObjectNode(), id));
  }

  private static ObjectNode model(ObjectNode model, String id) {
    model.put("id", id);
    model.put("object", "model");
    model.put("created", 0);
    model.put("owned_by", "mlxcap");
    return model;
  }
}
