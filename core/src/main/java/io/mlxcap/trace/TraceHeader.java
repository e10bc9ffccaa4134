package io.mlxcap.trace;

import io.mlxcap.model.ModelTable;
import java.util.Map;
import java.util.Optional;

/**
 * The first line of a v1 trace: what it is, when it started, on what host, under which settings and
 * model table. Every part is optional, so a trace of request lines alone is still a trace.
 *
 * @param startedAt when time 0 of the trace was, as an ISO-8601 UTC instant, if known
 * @param source what wrote the trace and from what (e.g. {@code import azure-2023 …}), for provenance
 * @param hostRamBytes the host's RAM in bytes, or {@link TraceEvent#UNKNOWN}
 * @param hostCores the host's cores, or {@link TraceEvent#UNKNOWN}
 * @param settings the MLX_* settings in force, as variables and values
 * @param models the model table in force, if the trace carries one
 */
public record TraceHeader(
    Optional<String> startedAt,
    Optional<String> source,
    long hostRamBytes,
    int hostCores,
    Map<String, String> settings,
    Optional<ModelTable> models) {

  /** The format name a v1 header carries. */
  public static final String FORMAT = "mlxcap-trace";
  /** The only version this mlxcap reads and writes. */
  public static final int VERSION = 1;

  public TraceHeader {
    settings = Map.copyOf(settings);
  }

  /** A header that says nothing: what a trace without a header line has. */
  public static TraceHeader empty() {
    return new TraceHeader(Optional.empty(), Optional.empty(), TraceEvent.UNKNOWN, (int) TraceEvent.UNKNOWN,
        Map.of(), Optional.empty());
  }
}
