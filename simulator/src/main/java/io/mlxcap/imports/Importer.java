package io.mlxcap.imports;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.SizeRange;
import io.mlxcap.trace.TraceEvent;
import io.mlxcap.trace.TraceHeader;
import io.mlxcap.trace.TraceWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns request logs of other tools (CSV or JSON Lines, one request a row) into v1 traces.
 *
 * <p>Several inputs are merged by time; each input's label is its model unless a model column or a
 * fixed model says otherwise. Model names then go through the user's mapping and must resolve in the
 * model table, or be given a size, so the trace is ready to simulate. Rows out of time order are
 * sorted ({@link Order#SORT}, the default, holding the rows in memory) or refused
 * ({@link Order#REJECT}). Every error names the file and line.
 */
public final class Importer {

  /** One input file and the label that names it (and its model, when rows do not say). */
  public record Input(String label, Path file) {
    public Input {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(file, "file");
    }
  }

  /**
   * Which fields of a row hold what. Null fields are absent.
   *
   * @param latencyMillisPerUnit 1 when latencies are in ms, 1000 when in seconds
   */
  public record Fields(String time, TimeFormat timeFormat, String model, String fixedModel, String promptTokens,
      String outputTokens, String latency, double latencyMillisPerUnit) {
    public Fields {
      Objects.requireNonNull(time, "time");
      Objects.requireNonNull(timeFormat, "timeFormat");
    }
  }

  /** What to do with rows out of time order. */
  public enum Order {
    SORT,
    REJECT
  }

  /** What an import wrote. */
  public record Summary(long requests, Map<String, Long> perModel, long spanNanos, Optional<String> startedAt) {}

  private record Raw(long time, int input, long line, String model, long prompt, long output, long serviceNanos) {}

  private final InputFormat format;
  private final Fields fields;
  private final Map<String, String> modelMap;
  private final Map<String, SizeRange> sizes;
  private final ModelTable table;
  private final Order order;
  private final String source;

  /**
   * An importer of {@code format} files.
   *
   * @param modelMap trace model name to a name or alias of the table (or a sized model)
   * @param sizes sizes for models that are not in the table
   * @param source what to record as the trace's provenance
   */
  public Importer(InputFormat format, Fields fields, Map<String, String> modelMap, Map<String, SizeRange> sizes,
      ModelTable table, Order order, String source) {
    this.format = format;
    this.fields = fields;
    this.modelMap = Map.copyOf(modelMap);
    this.sizes = new LinkedHashMap<>(sizes);
    this.table = table;
    this.order = order;
    this.source = source;
  }

  /** Reads {@code inputs}, merges them by time and writes the trace to {@code out}. */
  public Summary run(List<Input> inputs, Path out) {
    List<Raw> rows = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      read(i, inputs.get(i), inputs.size() > 1, rows);
    }
    if (rows.isEmpty()) {
      throw new InvalidInputException("the input has no rows to import");
    }
    rows.sort(Comparator.comparingLong(Raw::time).thenComparingInt(Raw::input).thenComparingLong(Raw::line));
    ModelTable traceTable = checkModels(rows, inputs);
    long base = fields.timeFormat().absolute() ? rows.get(0).time() : 0;
    Optional<String> startedAt = fields.timeFormat().absolute()
        ? Optional.of(Instant.ofEpochSecond(0, base).toString())
        : Optional.empty();
    TraceHeader header = new TraceHeader(startedAt, Optional.of(source), TraceEvent.UNKNOWN,
        (int) TraceEvent.UNKNOWN, Map.of(), Optional.of(traceTable));
    Map<String, Long> perModel = new TreeMap<>();
    try (TraceWriter writer = TraceWriter.buffered(out, header)) {
      for (Raw row : rows) {
        String id = inputs.get(row.input()).label() + "-" + row.line();
        writer.write(new TraceEvent.Request(row.time() - base, id, row.model(), row.prompt(), TraceEvent.UNKNOWN,
            row.output(), row.serviceNanos()));
        perModel.merge(row.model(), 1L, Long::sum);
      }
    }
    long span = rows.get(rows.size() - 1).time() - rows.get(0).time();
    return new Summary(rows.size(), perModel, span, startedAt);
  }

  private void read(int inputIndex, Input input, boolean labelIsModel, List<Raw> rows) {
    String name = input.file().getFileName().toString();
    try (RowSource source = format.open(input.file())) {
      source.requireField(fields.time());
      for (String field : new String[] {fields.model(), fields.promptTokens(), fields.outputTokens(), fields.latency()}) {
        if (field != null) {
          source.requireField(field);
        }
      }
      long previous = Long.MIN_VALUE;
      long previousLine = 0;
      for (Row row = source.next(); row != null; row = source.next()) {
        String where = name + " line " + row.line();
        long time = time(row, where);
        if (order == Order.REJECT && time < previous) {
          throw new InvalidInputException(where + " is earlier than line " + previousLine
              + "; rows must be in time order (or import with --order sort)");
        }
        previous = time;
        previousLine = row.line();
        String model = model(row, input, labelIsModel, where);
        long prompt = count(row, fields.promptTokens(), where);
        long output = count(row, fields.outputTokens(), where);
        long service = latency(row, where);
        rows.add(new Raw(time, inputIndex, row.line(), modelMap.getOrDefault(model, model), prompt, output, service));
      }
    }
  }

  private long time(Row row, String where) {
    String value = row.get(fields.time());
    if (value == null) {
      throw new InvalidInputException(where + ": no time in '" + fields.time() + "'");
    }
    try {
      return fields.timeFormat().parseNanos(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(where + ": " + e.getMessage());
    }
  }

  private String model(Row row, Input input, boolean labelIsModel, String where) {
    if (fields.model() != null) {
      String value = row.get(fields.model());
      if (value == null) {
        throw new InvalidInputException(where + ": no model in '" + fields.model() + "'");
      }
      return value;
    }
    if (fields.fixedModel() != null) {
      return fields.fixedModel();
    }
    if (labelIsModel) {
      return input.label();
    }
    throw new InvalidInputException("the rows name no model: give a model column, one fixed model,"
        + " or several labelled inputs whose labels are models");
  }

  private static long count(Row row, String field, String where) {
    if (field == null) {
      return TraceEvent.UNKNOWN;
    }
    String value = row.get(field);
    if (value == null) {
      throw new InvalidInputException(where + ": no value in '" + field + "'");
    }
    long number;
    try {
      number = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new InvalidInputException(where + ": '" + field + "' is '" + value + "', not a whole number of tokens");
    }
    if (number < 0) {
      throw new InvalidInputException(where + ": '" + field + "' is " + number + "; token counts cannot be negative");
    }
    return number;
  }

  private long latency(Row row, String where) {
    if (fields.latency() == null) {
      return TraceEvent.UNKNOWN;
    }
    String value = row.get(fields.latency());
    double millis;
    try {
      millis = Double.parseDouble(value == null ? "" : value) * fields.latencyMillisPerUnit();
    } catch (NumberFormatException e) {
      throw new InvalidInputException(where + ": '" + fields.latency() + "' is '" + value + "', not a number");
    }
    if (!(millis >= 0) || Double.isInfinite(millis)) {
      throw new InvalidInputException(where + ": '" + fields.latency() + "' is " + value + "; a latency cannot be negative");
    }
    return Math.round(millis * 1_000_000);
  }

  /** Checks every model resolves in the table or has a size; returns the table the trace carries. */
  private ModelTable checkModels(List<Raw> rows, List<Input> inputs) {
    Map<String, String> unknown = new TreeMap<>();
    List<ModelSpec> extra = new ArrayList<>();
    for (Raw row : rows) {
      String model = row.model();
      if (table.find(model).isPresent() || unknown.containsKey(model)
          || extra.stream().anyMatch(m -> m.name().equals(model))) {
        continue;
      }
      SizeRange size = sizes.get(model);
      if (size != null) {
        try {
          extra.add(new ModelSpec(model, List.of(), size));
        } catch (IllegalArgumentException e) {
          throw new InvalidInputException("--size " + model + ": " + e.getMessage());
        }
      } else {
        unknown.put(model, inputs.get(row.input()).file().getFileName() + " line " + row.line());
      }
    }
    if (!unknown.isEmpty()) {
      List<String> names = new ArrayList<>(unknown.keySet());
      String first = names.remove(0);
      throw new InvalidInputException("model '" + first + "' (first at " + unknown.get(first)
          + ") is not in the model table; map it onto one with --map " + first
          + "=<model> or give it a size with --size " + first + "=<size>"
          + (names.isEmpty() ? "" : " (also unknown: " + String.join(", ", names) + ")")
          + "; known models: " + table.describeAll());
    }
    try {
      return extra.isEmpty() ? table : table.plus(extra);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("--size: " + e.getMessage());
    }
  }
}
