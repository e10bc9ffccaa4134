package io.mlxcap.trace;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mlxcap.JsonErrors;
import io.mlxcap.cache.EvictionReason;
import io.mlxcap.cache.LoadCause;
import io.mlxcap.model.ModelTable;
import io.mlxcap.trace.TraceEvent.End;
import io.mlxcap.trace.TraceEvent.Evict;
import io.mlxcap.trace.TraceEvent.Load;
import io.mlxcap.trace.TraceEvent.LoadFailed;
import io.mlxcap.trace.TraceEvent.LoadStart;
import io.mlxcap.trace.TraceEvent.Memory;
import io.mlxcap.trace.TraceEvent.Request;
import io.mlxcap.trace.TraceEvent.RequestDone;
import io.mlxcap.trace.TraceEvent.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The v1 line format: field names, units and the mapping between lines and {@link TraceEvent}s.
 *
 * <p>Not thread-safe: a writer or reader owns one. Decoding walks each line once with Jackson's
 * streaming parser and keeps no tree, so reading is fast and memory stays flat.
 */
final class TraceCodec {
  static final JsonFactory JSON_FACTORY = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper(JSON_FACTORY);
  private static final long NANOS_PER_MS = 1_000_000L;

  // ---- encoding ----

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
  private final JsonGenerator out;

  TraceCodec() {
    try {
      out = JSON_FACTORY.createGenerator(buffer);
      out.setRootValueSeparator(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns {@code header} as one line, newline included. */
  byte[] encode(TraceHeader header) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("type", "header");
    node.put("format", TraceHeader.FORMAT);
    node.put("version", TraceHeader.VERSION);
    header.startedAt().ifPresent(v -> node.put("started_at", v));
    header.source().ifPresent(v -> node.put("source", v));
    if (header.hostRamBytes() != TraceEvent.UNKNOWN || header.hostCores() != TraceEvent.UNKNOWN) {
      ObjectNode host = node.putObject("host");
      if (header.hostRamBytes() != TraceEvent.UNKNOWN) {
        host.put("ram_bytes", header.hostRamBytes());
      }
      if (header.hostCores() != TraceEvent.UNKNOWN) {
        host.put("cores", header.hostCores());
      }
    }
    if (!header.settings().isEmpty()) {
      ObjectNode settings = node.putObject("settings");
      new TreeMap<>(header.settings()).forEach(settings::put);
    }
    header.models().ifPresent(t -> node.set("models", t.toJsonArray()));
    try {
      MAPPER.writeValue(out, node);
      return takeLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns {@code event} as one line, newline included. */
  byte[] encode(TraceEvent event) {
    try {
      out.writeStartObject();
      if (event instanceof Request r) {
        head("request", r.timeNanos());
        out.writeStringField("id", r.id());
        out.writeStringField("model", r.model());
        count("prompt_tokens", r.promptTokens());
        count("max_tokens", r.maxTokens());
        count("output_tokens", r.outputTokens());
        millis("service_ms", r.serviceNanos());
        if (r.keepAliveNanos() == TraceEvent.KEEP_ALIVE_FOREVER) {
          out.writeNumberField("keep_alive_ms", -1);
        } else {
          millis("keep_alive_ms", r.keepAliveNanos());
        }
      } else if (event instanceof RequestDone d) {
        head("request_done", d.timeNanos());
        out.writeStringField("id", d.id());
        out.writeStringField("status", d.status().name().toLowerCase(Locale.ROOT));
        millis("queue_ms", d.queueNanos());
        millis("load_wait_ms", d.loadWaitNanos());
        millis("service_ms", d.serviceNanos());
        count("output_tokens", d.outputTokens());
        text("error", d.error());
      } else if (event instanceof LoadStart s) {
        head("load_start", s.timeNanos());
        out.writeStringField("model", s.model());
        out.writeStringField("cause", s.cause().wireName());
        count("expected_bytes", s.expectedBytes());
      } else if (event instanceof Load l) {
        head("load", l.timeNanos());
        out.writeStringField("model", l.model());
        out.writeStringField("cause", l.cause().wireName());
        count("bytes", l.bytes());
        millis("duration_ms", l.durationNanos());
      } else if (event instanceof LoadFailed f) {
        head("load_failed", f.timeNanos());
        out.writeStringField("model", f.model());
        out.writeStringField("cause", f.cause().wireName());
        millis("duration_ms", f.durationNanos());
        text("error", f.error());
      } else if (event instanceof Evict e) {
        head("evict", e.timeNanos());
        out.writeStringField("model", e.model());
        out.writeStringField("reason", e.reason().wireName());
        count("bytes", e.bytes());
      } else if (event instanceof Memory m) {
        head("memory", m.timeNanos());
        count("rss_bytes", m.rssBytes());
        count("host_used_bytes", m.hostUsedBytes());
        count("host_total_bytes", m.hostTotalBytes());
      } else if (event instanceof End e) {
        head("end", e.timeNanos());
      } else if (event instanceof TraceEvent.Tick t) {
        head("tick", t.timeNanos());
      }
      out.writeEndObject();
      return takeLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void head(String type, long timeNanos) throws IOException {
    out.writeStringField("type", type);
    out.writeFieldName("t_ms");
    out.writeNumber(formatMillis(timeNanos));
  }

  private void count(String field, long value) throws IOException {
    if (value != TraceEvent.UNKNOWN) {
      out.writeNumberField(field, value);
    }
  }

  private void millis(String field, long nanos) throws IOException {
    if (nanos != TraceEvent.UNKNOWN) {
      out.writeFieldName(field);
      out.writeNumber(formatMillis(nanos));
    }
  }

  private void text(String field, String value) throws IOException {
    if (value != null) {
      out.writeStringField(field, value);
    }
  }

  private byte[] takeLine() throws IOException {
    out.flush();
    buffer.write('\n');
    byte[] line = buffer.toByteArray();
    buffer.reset();
    return line;
  }

  /** Milliseconds with as many decimals as the nanoseconds need: {@code 1500}, {@code 12.25}, {@code 0.000001}. */
  static String formatMillis(long nanos) {
    long whole = nanos / NANOS_PER_MS;
    long fraction = nanos % NANOS_PER_MS;
    if (fraction == 0) {
      return Long.toString(whole);
    }
    String digits = Long.toString(NANOS_PER_MS + fraction).substring(1);
    int end = digits.length();
    while (digits.charAt(end - 1) == '0') {
      end--;
    }
    return whole + "." + digits.substring(0, end);
  }

  // ---- decoding ----

  /** Why a line could not be read; the reader adds the file and line number. */
  static final class BadLine extends Exception {
    private static final long serialVersionUID = 1L;

    BadLine(String message) {
      super(message, null, false, false);
    }
  }

  /** A line's type, read before anything else to tell a header from an event. */
  static boolean isHeader(byte[] line, int offset, int length) {
    try (JsonParser p = JSON_FACTORY.createParser(line, offset, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("type")) {
          return value == JsonToken.VALUE_STRING && p.getText().equals("header");
        }
        p.skipChildren();
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  /** Reads a header line. */
  static TraceHeader decodeHeader(byte[] line, int offset, int length) throws BadLine {
    JsonNode node;
    try {
      node = MAPPER.readTree(JSON_FACTORY.createParser(line, offset, length));
    } catch (JsonProcessingException e) {
      throw new BadLine("not valid JSON: " + JsonErrors.reason(e));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (node == null || !node.isObject()) {
      throw new BadLine("expected a JSON object");
    }
    JsonNode format = node.get("format");
    if (format != null && !format.asText().equals(TraceHeader.FORMAT)) {
      throw new BadLine("the header names format '" + format.asText() + "', not " + TraceHeader.FORMAT);
    }
    JsonNode version = node.get("version");
    if (version != null && !(version.isInt() && version.asInt() == TraceHeader.VERSION)) {
      throw new BadLine("trace version " + version + " is not supported; this mlxcap reads version 1");
    }
    JsonNode host = node.path("host");
    Map<String, String> settings = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.path("settings").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      settings.put(e.getKey(), e.getValue().asText());
    }
    Optional<ModelTable> models = Optional.empty();
    if (node.has("models")) {
      try {
        models = Optional.of(ModelTable.fromJsonArray(node.get("models")));
      } catch (IllegalArgumentException e) {
        throw new BadLine("header models: " + e.getMessage());
      }
    }
    return new TraceHeader(
        Optional.ofNullable(node.get("started_at")).map(JsonNode::asText),
        Optional.ofNullable(node.get("source")).map(JsonNode::asText),
        host.has("ram_bytes") ? host.get("ram_bytes").asLong() : TraceEvent.UNKNOWN,
        host.has("cores") ? host.get("cores").asInt() : (int) TraceEvent.UNKNOWN,
        settings,
        models);
  }

  // The fields of the line being decoded; reset for each line.
  private String type;
  private String id;
  private String model;
  private String status;
  private String error;
  private String cause;
  private String reason;
  private long promptTokens;
  private long maxTokens;
  private long outputTokens;
  private long expectedBytes;
  private long bytes;
  private long rssBytes;
  private long hostUsedBytes;
  private long hostTotalBytes;
  private long timeNanos;
  private long serviceNanos;
  private long queueNanos;
  private long loadWaitNanos;
  private long durationNanos;
  private long keepAliveNanos;
  /** The fast path for request lines in the writer's own layout. */
  private final RequestLines requestLines = new RequestLines();
  /** Model names seen lately, so that a name read again is the same String (no allocation, hash cached). */
  private final String[] recentModels = new String[32];
  private int recentCount;

  /**
   * Reads one event line; returns null for a well-formed line of a type this version does not know
   * (ignored, for forward compatibility), and {@code fallbackId} names a request without an id.
   */
  TraceEvent decode(byte[] line, int offset, int length, long lineNumber) throws BadLine {
    Request fast = requestLines.decode(line, offset, length); // null unless a request line in the writer's layout
    if (fast != null) {
      return fast;
    }
    return decodeFully(line, offset, length, lineNumber);
  }

  /** The full parser, for every line the fast path does not take (and for tests that compare the two). */
  TraceEvent decodeFully(byte[] line, int offset, int length, long lineNumber) throws BadLine {
    reset();
    try (JsonParser p = JSON_FACTORY.createParser(line, offset, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new BadLine("expected a JSON object");
      }
      String name;
      while ((name = p.nextFieldName()) != null) {
        JsonToken token = p.nextToken();
        readField(p, name, token);
      }
      if (p.nextToken() != null) {
        throw new BadLine("more than one JSON value on the line");
      }
    } catch (JsonProcessingException e) {
      throw new BadLine("not valid JSON: " + JsonErrors.reason(e));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return build(lineNumber);
  }

  private void reset() {
    type = id = model = status = error = cause = reason = null;
    timeNanos = serviceNanos = queueNanos = loadWaitNanos = durationNanos = keepAliveNanos = TraceEvent.UNKNOWN;
    promptTokens = maxTokens = outputTokens = expectedBytes = bytes = rssBytes = hostUsedBytes = hostTotalBytes =
        TraceEvent.UNKNOWN;
  }

  private void readField(JsonParser p, String name, JsonToken token) throws IOException, BadLine {
    switch (name) {
      case "type": type = string(p, name, token); break;
      case "t_ms": timeNanos = nanos(p, name, token); break;
      case "id": id = token == JsonToken.VALUE_NUMBER_INT ? p.getText() : string(p, name, token); break;
      case "model": model = modelName(p, name, token); break;
      case "status": status = string(p, name, token); break;
      case "error": error = token == JsonToken.VALUE_NULL ? null : string(p, name, token); break;
      case "cause": cause = string(p, name, token); break;
      case "reason": reason = string(p, name, token); break;
      case "prompt_tokens": promptTokens = count(p, name, token); break;
      case "max_tokens": maxTokens = count(p, name, token); break;
      case "output_tokens": outputTokens = count(p, name, token); break;
      case "expected_bytes": expectedBytes = count(p, name, token); break;
      case "bytes": bytes = count(p, name, token); break;
      case "rss_bytes": rssBytes = count(p, name, token); break;
      case "host_used_bytes": hostUsedBytes = count(p, name, token); break;
      case "host_total_bytes": hostTotalBytes = count(p, name, token); break;
      case "service_ms": serviceNanos = nanos(p, name, token); break;
      case "queue_ms": queueNanos = nanos(p, name, token); break;
      case "load_wait_ms": loadWaitNanos = nanos(p, name, token); break;
      case "duration_ms": durationNanos = nanos(p, name, token); break;
      case "keep_alive_ms": keepAliveNanos = keepAlive(p, name, token); break;
      default: p.skipChildren(); // unknown fields are ignored: forward compatible
    }
  }

  private static String string(JsonParser p, String name, JsonToken token) throws IOException, BadLine {
    if (token != JsonToken.VALUE_STRING) {
      throw new BadLine("\"" + name + "\" must be a string");
    }
    return p.getText();
  }

  private static long count(JsonParser p, String name, JsonToken token) throws IOException, BadLine {
    if (token == JsonToken.VALUE_NULL) {
      return TraceEvent.UNKNOWN;
    }
    if (token != JsonToken.VALUE_NUMBER_INT) {
      throw new BadLine("\"" + name + "\" must be a whole number");
    }
    long value = p.getLongValue();
    if (value < 0) {
      throw new BadLine("\"" + name + "\" must be >= 0, was " + value);
    }
    return value;
  }

  /** Reads a keep-alive: milliseconds >= 0, or -1 for forever. */
  private static long keepAlive(JsonParser p, String name, JsonToken token) throws IOException, BadLine {
    if (token == JsonToken.VALUE_NUMBER_INT && p.getLongValue() == -1) {
      return TraceEvent.KEEP_ALIVE_FOREVER;
    }
    try {
      return nanos(p, name, token);
    } catch (BadLine e) {
      throw new BadLine("\"" + name + "\" must be milliseconds >= 0, or -1 for forever, was " + p.getText());
    }
  }

  /** Reads milliseconds as exact nanoseconds: decimal digits are scaled, not rounded through a double. */
  private static long nanos(JsonParser p, String name, JsonToken token) throws IOException, BadLine {
    if (token == JsonToken.VALUE_NULL) {
      return TraceEvent.UNKNOWN;
    }
    if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
      throw new BadLine("\"" + name + "\" must be a number of milliseconds");
    }
    long exact = parseMillis(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
    if (exact >= 0) {
      return exact;
    }
    double value = p.getDoubleValue();
    if (!(value >= 0) || Double.isInfinite(value) || value * NANOS_PER_MS > Long.MAX_VALUE) {
      throw new BadLine("\"" + name + "\" must be >= 0, was " + p.getText());
    }
    return Math.round(value * NANOS_PER_MS);
  }

  /**
   * Parses plain decimal milliseconds ({@code 123}, {@code 123.456789}) to nanoseconds, rounding past
   * the sixth decimal; returns -1 for anything else (a sign, an exponent, too many digits).
   */
  static long parseMillis(char[] text, int offset, int length) {
    long whole = 0;
    int i = offset;
    int end = offset + length;
    int digits = 0;
    while (i < end && text[i] >= '0' && text[i] <= '9') {
      if (++digits > 12) {
        return -1;
      }
      whole = whole * 10 + (text[i++] - '0');
    }
    if (digits == 0) {
      return -1;
    }
    long fraction = 0;
    int scale = 0;
    boolean roundUp = false;
    if (i < end && text[i] == '.') {
      i++;
      if (i == end) {
        return -1;
      }
      while (i < end && text[i] >= '0' && text[i] <= '9') {
        if (scale < 6) {
          fraction = fraction * 10 + (text[i] - '0');
          scale++;
        } else if (scale == 6) {
          roundUp = text[i] >= '5';
          scale++;
        }
        i++;
      }
    }
    if (i != end) {
      return -1;
    }
    for (int s = Math.min(scale, 6); s < 6; s++) {
      fraction *= 10;
    }
    return whole * NANOS_PER_MS + fraction + (roundUp ? 1 : 0);
  }

  /** Reads a model name, reusing the String of an earlier line with the same name. */
  private String modelName(JsonParser p, String name, JsonToken token) throws IOException, BadLine {
    if (token != JsonToken.VALUE_STRING) {
      throw new BadLine("\"" + name + "\" must be a string");
    }
    char[] text = p.getTextCharacters();
    int offset = p.getTextOffset();
    int length = p.getTextLength();
    for (int r = 0; r < recentCount; r++) {
      String known = recentModels[r];
      if (known.length() == length && sameChars(known, text, offset)) {
        return known;
      }
    }
    String value = new String(text, offset, length);
    if (recentCount < recentModels.length) {
      recentModels[recentCount++] = value;
    }
    return value;
  }

  private static boolean sameChars(String known, char[] text, int offset) {
    for (int i = 0; i < known.length(); i++) {
      if (known.charAt(i) != text[offset + i]) {
        return false;
      }
    }
    return true;
  }

  private TraceEvent build(long lineNumber) throws BadLine {
    if (type == null) {
      throw new BadLine("no \"type\" field");
    }
    switch (type) {
      case "request":
        return new Request(time(), id == null ? "line-" + lineNumber : id, required(model, "model"), promptTokens,
            maxTokens, outputTokens, serviceNanos, keepAliveNanos);
      case "request_done":
        return new RequestDone(time(), required(id, "id"), status(), queueNanos, loadWaitNanos, serviceNanos,
            outputTokens, error);
      case "load_start":
        return new LoadStart(time(), required(model, "model"), cause(), expectedBytes);
      case "load":
        return new Load(time(), required(model, "model"), cause(), bytes, durationNanos);
      case "load_failed":
        return new LoadFailed(time(), required(model, "model"), cause(), durationNanos, error);
      case "evict":
        return new Evict(time(), required(model, "model"), bytes, evictionReason());
      case "memory":
        return new Memory(time(), rssBytes, hostUsedBytes, hostTotalBytes);
      case "end":
        return new End(time());
      case "tick":
        return new TraceEvent.Tick(time());
      case "header":
        throw new BadLine("a header may only be the first line");
      default:
        return null;
    }
  }

  private long time() throws BadLine {
    if (timeNanos == TraceEvent.UNKNOWN) {
      throw new BadLine("a " + type + " event needs \"t_ms\"");
    }
    return timeNanos;
  }

  private String required(String value, String field) throws BadLine {
    if (value == null) {
      throw new BadLine("a " + type + " event needs \"" + field + "\"");
    }
    return value;
  }

  private Status status() throws BadLine {
    String value = required(status, "status");
    for (Status s : Status.values()) {
      if (s.name().equalsIgnoreCase(value)) {
        return s;
      }
    }
    throw new BadLine("unknown status '" + value + "'; known: ok, error, rejected, cancelled");
  }

  private LoadCause cause() throws BadLine {
    if (cause == null) {
      return LoadCause.REQUEST;
    }
    for (LoadCause c : LoadCause.values()) {
      if (c.wireName().equals(cause)) {
        return c;
      }
    }
    throw new BadLine("unknown cause '" + cause + "'; known: request, preload, manual");
  }

  private EvictionReason evictionReason() throws BadLine {
    String value = required(reason, "reason");
    for (EvictionReason r : EvictionReason.values()) {
      if (r.wireName().equals(value)) {
        return r;
      }
    }
    throw new BadLine("unknown reason '" + value + "'; known: max_models, cleanup, idle_ttl, pressure, budget, manual");
  }
}
