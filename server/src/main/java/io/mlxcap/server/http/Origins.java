package io.mlxcap.server.http;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Who may talk to the server, as Ollama decides it with {@code OLLAMA_ORIGINS}: a browser page only
 * from a loopback origin or one named in {@code MLX_ALLOWED_ORIGINS} ({@code *} for any), so a web
 * page cannot drive the server through a visitor's browser; and, while the server is bound to
 * loopback, only requests whose {@code Host} is a loopback name, so DNS rebinding cannot reach it.
 * Requests without an {@code Origin} (command-line clients, SDKs) are not browsers and pass.
 */
final class Origins {
  private final boolean loopbackBound;
  private final List<String> allowed;

  Origins(String bindHost, List<String> allowed) {
    this.loopbackBound = isLoopback(bindHost);
    this.allowed = allowed.stream().map(o -> o.strip().toLowerCase(Locale.ROOT)).filter(o -> !o.isEmpty())
        .map(o -> o.endsWith("/") ? o.substring(0, o.length() - 1) : o).toList();
  }

  /** Why a request with these headers is refused (one sentence), or null when it may proceed. */
  String refusal(String host, String origin) {
    if (loopbackBound && host != null && !isLoopback(hostName(host)) && !allowedHost(hostName(host))) {
      return "the Host '" + host + "' is not a loopback name; this server answers only localhost while bound to it"
          + " (add the name to MLX_ALLOWED_ORIGINS to allow it)";
    }
    if (origin != null && !origin.equals("null") && !allowedOrigin(origin.strip().toLowerCase(Locale.ROOT))) {
      return "the origin '" + origin + "' is not allowed; add it to MLX_ALLOWED_ORIGINS (comma-separated) to allow it";
    }
    if ("null".equals(origin) && !allowed.contains("*")) {
      return "the origin 'null' (a sandboxed page or a file) is not allowed; MLX_ALLOWED_ORIGINS=* allows every origin";
    }
    return null;
  }

  private boolean allowedOrigin(String origin) {
    if (allowed.contains("*") || allowed.contains(origin)) {
      return true;
    }
    try {
      URI uri = URI.create(origin);
      return uri.getHost() != null && (isLoopback(uri.getHost()) || allowedHost(uri.getHost()));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private boolean allowedHost(String name) {
    for (String entry : allowed) {
      if (entry.equals("*") || entry.equals(name)) {
        return true;
      }
      try {
        URI uri = URI.create(entry);
        if (name.equals(uri.getHost())) {
          return true;
        }
      } catch (IllegalArgumentException e) {
        // not a URI: compared as a name above
      }
    }
    return false;
  }

  /** The name of a Host header: without its port, IPv6 brackets kept off. */
  static String hostName(String host) {
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 0 ? h.substring(1, end) : h;
    }
    int colon = h.indexOf(':');
    return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.substring(0, colon) : h;
  }

  static boolean isLoopback(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.startsWith("[") && n.endsWith("]")) {
      n = n.substring(1, n.length() - 1);
    }
    return n.equals("localhost") || n.endsWith(".localhost") || n.equals("::1") || n.equals("0:0:0:0:0:0:0:1")
        || n.matches("127(\\.\\d{1,3}){3}");
  }
}
