package io.mlxcap.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own error answers — a URI too long (414), headers too large (431), a request it could not
 * parse — as JSON in the API's shape instead of an HTML page; also the two error bodies every error
 * of the server uses.
 */
final class JsonErrorHandler extends ErrorHandler {

  /** OpenAI's shape: {@code {"error":{"message","type","code"}}}. */
  static String openAiBody(int status, String message, String code) {
    ObjectNode body = Body.JSON.createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("message", message);
    error.put("type", status == 401 ? "authentication_error" : status == 403 ? "permission_error"
        : status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error");
    if (code != null) {
      error.put("code", code);
    } else {
      error.put("code", status);
    }
    return body.toString();
  }

  /** Ollama's shape: {@code {"error":"message"}}. */
  static String ollamaBody(String message) {
    ObjectNode body = Body.JSON.createObjectNode();
    body.put("error", message);
    return body.toString();
  }

  /** The sentence for an error with no message of its own. */
  static String message(int status, String reason) {
    return switch (status) {
      case 414 -> "the request URI is too long";
      case 431 -> "the request headers are too large";
      case 413 -> "the request body is over the limit";
      default -> reason == null || reason.isBlank() ? "HTTP " + status + " " + HttpStatus.getMessage(status) : reason;
    };
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    return ByteBuffer.wrap(openAiBody(status, message(status, reason), null).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  protected void generateAcceptableResponse(Request baseRequest, HttpServletRequest request, HttpServletResponse response,
      int code, String message) throws IOException {
    String uri = request.getRequestURI();
    String body = uri != null && uri.startsWith("/api/") ? ollamaBody(message(code, null)) : openAiBody(code, message(code, null), null);
    baseRequest.setHandled(true);
    response.setContentType("application/json");
    response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
  }
}
