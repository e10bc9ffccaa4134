package io.mlxcap.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.mlxcap.JsonErrors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** A JSON request body, read with a size limit, and its fields checked one by one with one-sentence errors. */
final class Body {
  static final ObjectMapper JSON = new ObjectMapper();
  private final JsonNode node;

  private Body(JsonNode node) {
    this.node = node;
  }

  /** Reads the body of {@code ctx}: 413 past {@code limit} bytes, 400 unless a JSON object. */
  static Body read(Context ctx, long limit) {
    if (ctx.contentLength() > limit) {
      throw new BadRequest(413, "the request body is " + ctx.contentLength() + " bytes; the limit is " + limit);
    }
    byte[] bytes;
    try (InputStream in = ctx.req().getInputStream()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] chunk = new byte[8192];
      for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
        out.write(chunk, 0, n);
        if (out.size() > limit) {
          throw new BadRequest(413, "the request body is over the limit of " + limit + " bytes");
        }
      }
      bytes = out.toByteArray();
    } catch (IOException e) {
      throw new BadRequest("the request body could not be read: " + e.getMessage());
    }
    JsonNode node;
    try {
      node = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw new BadRequest("the request body is not valid JSON: " + JsonErrors.reason(e));
    } catch (IOException e) {
      throw new BadRequest("the request body could not be read: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw new BadRequest("the request body must be a JSON object");
    }
    return new Body(node);
  }

  JsonNode node() {
    return node;
  }

  String requiredString(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new BadRequest("'" + field + "' is required");
    }
    if (!value.isTextual()) {
      throw new BadRequest("'" + field + "' must be a string");
    }
    return value.asText();
  }

  boolean bool(String field, boolean fallback) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isBoolean()) {
      throw new BadRequest("'" + field + "' must be true or false");
    }
    return value.asBoolean();
  }

  /** An integer from {@code min} to {@code max} at {@code path} (e.g. options.num_predict), or the fallback. */
  static int integer(JsonNode parent, String field, String path, int fallback, int min, int max) {
    JsonNode value = parent == null ? null : parent.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < min || value.asInt() > max) {
      throw new BadRequest("'" + path + "' must be a whole number from " + min + " to " + max + ", was " + value);
    }
    return value.asInt();
  }

  /** A number from {@code min} to {@code max}, or the fallback. */
  static double number(JsonNode parent, String field, String path, double fallback, double min, double max) {
    JsonNode value = parent == null ? null : parent.get(field);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.isNumber() || !(value.asDouble() >= min && value.asDouble() <= max)) {
      throw new BadRequest("'" + path + "' must be a number from " + min + " to " + max + ", was " + value);
    }
    return value.asDouble();
  }

  /** The chat messages as one prompt: "role: content" lines, then "assistant: ". */
  String chatPrompt() {
    JsonNode messages = node.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw new BadRequest("'messages' must be a non-empty array of {role, content}");
    }
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      if (!m.isObject() || !m.path("role").isTextual()) {
        throw new BadRequest("'messages[" + i + "]' must be an object with a string 'role'");
      }
      JsonNode content = m.get("content");
      String text;
      if (content == null || content.isNull()) {
        text = "";
      } else if (content.isTextual()) {
        text = content.asText();
      } else if (content.isArray()) {
        StringBuilder parts = new StringBuilder();
        content.forEach(part -> parts.append(part.path("text").asText("")));
        text = parts.toString();
      } else {
        throw new BadRequest("'messages[" + i + "].content' must be a string");
      }
      lines.add(m.get("role").asText() + ": " + text);
    }
    return String.join("\n", lines) + "\nassistant: ";
  }
}
