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

  /**
   * Stop sequences at {@code field} of {@code parent}: a string or an array of up to 4 non-empty
   * strings (OpenAI's limit); none when absent.
   */
  List<String> stopSequences(JsonNode parent, String field, String path) {
    JsonNode value = parent == null ? null : parent.get(field);
    if (value == null || value.isNull()) {
      return List.of();
    }
    List<String> stops = new ArrayList<>();
    if (value.isTextual()) {
      stops.add(value.asText());
    } else if (value.isArray() && value.size() <= 4) {
      value.forEach(v -> stops.add(v.isTextual() ? v.asText() : ""));
    } else {
      throw new BadRequest("'" + path + "' must be a string or an array of up to 4 strings");
    }
    if (stops.stream().anyMatch(String::isEmpty)) {
      throw new BadRequest("'" + path + "' must hold non-empty strings");
    }
    return stops;
  }

  /**
   * Ollama's {@code keep_alive} in nanoseconds: a number of seconds or a duration such as "5m", "1h30m",
   * "300ms"; 0 unloads the model when idle, a negative value keeps it for ever;
   * {@link io.mlxcap.cache.ModelCache#KEEP_ALIVE_DEFAULT} when absent.
   */
  long keepAlive() {
    JsonNode value = node.get("keep_alive");
    if (value == null || value.isNull()) {
      return io.mlxcap.cache.ModelCache.KEEP_ALIVE_DEFAULT;
    }
    double seconds;
    if (value.isNumber()) {
      seconds = value.asDouble();
    } else if (value.isTextual()) {
      seconds = goDurationSeconds(value.asText().strip());
    } else {
      seconds = Double.NaN;
    }
    if (Double.isNaN(seconds)) {
      throw new BadRequest("'keep_alive' must be a number of seconds or a duration such as \"5m\" or \"-1\", was " + value);
    }
    if (seconds < 0) {
      return io.mlxcap.cache.ModelCache.KEEP_ALIVE_FOREVER;
    }
    return seconds * 1e9 >= Long.MAX_VALUE ? io.mlxcap.cache.ModelCache.KEEP_ALIVE_FOREVER : Math.round(seconds * 1e9);
  }

  /**
   * LM Studio's {@code ttl}: how many seconds the model may stay idle after this request
   * (lmstudio.ai/docs/api/ttl-and-auto-evict); {@link io.mlxcap.cache.ModelCache#KEEP_ALIVE_DEFAULT}
   * when absent.
   */
  long ttl() {
    JsonNode value = node.get("ttl");
    if (value == null || value.isNull()) {
      return io.mlxcap.cache.ModelCache.KEEP_ALIVE_DEFAULT;
    }
    if (!value.isNumber() || value.asDouble() < 0 || Double.isNaN(value.asDouble())) {
      throw new BadRequest("'ttl' must be a number of seconds >= 0, was " + value);
    }
    double nanos = value.asDouble() * 1e9;
    return nanos >= Long.MAX_VALUE ? io.mlxcap.cache.ModelCache.KEEP_ALIVE_FOREVER : Math.round(nanos);
  }

  /** Seconds of a Go-style duration ("1h30m", "5m", "2.5s", "300ms", or a bare number of seconds); NaN if not one. */
  private static double goDurationSeconds(String text) {
    java.util.regex.Matcher whole = java.util.regex.Pattern.compile("-?\\d+(\\.\\d+)?").matcher(text);
    if (whole.matches()) {
      return Double.parseDouble(text);
    }
    java.util.regex.Matcher part = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)").matcher(text);
    boolean negative = text.startsWith("-");
    String rest = negative ? text.substring(1) : text;
    double total = 0;
    int at = 0;
    part = part.pattern().matcher(rest);
    while (at < rest.length() && part.find(at) && part.start() == at) {
      double n = Double.parseDouble(part.group(1));
      total += n * switch (part.group(2)) {
        case "ns" -> 1e-9;
        case "us", "µs" -> 1e-6;
        case "ms" -> 1e-3;
        case "s" -> 1;
        case "m" -> 60;
        default -> 3600;
      };
      at = part.end();
    }
    return at == rest.length() && at > 0 ? (negative ? -total : total) : Double.NaN;
  }

  /** The chat messages as one prompt: "role: content" lines, then "assistant: "; each role one of {@code roles}. */
  String chatPrompt(List<String> roles) {
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
      if (!roles.contains(m.get("role").asText())) {
        throw new BadRequest("'messages[" + i + "].role' must be one of " + String.join(", ", roles) + ", was '"
            + m.get("role").asText() + "'");
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
