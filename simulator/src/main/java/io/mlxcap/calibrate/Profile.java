package io.mlxcap.calibrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelSpec;
import io.mlxcap.model.ModelTable;
import io.mlxcap.model.Performance;
import io.mlxcap.model.SizeRange;
import io.mlxcap.sim.HostProfile;
import io.mlxcap.sim.LoadSpread;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A host profile: what {@code calibrate} measured of a server from its recording, for the simulator
 * to predict with ({@code --profile}). Every figure says how many observations it came from and
 * how; a figure from none keeps the simulator's default and says so.
 *
 * @param host the machine and the process: RAM, other use, runtime base, load speed, transient, growth
 * @param figures each host figure as measured, by its JSON name
 * @param models what each model measured: resident bytes and service rates, by canonical name
 * @param source the recording it was fitted from
 */
public record Profile(HostProfile host, Map<String, Figure> figures, Map<String, ModelFigures> models, String source) {
  static final String FORMAT = "mlxcap-host-profile";
  private static final String SPREAD = "load_time_spread";
  private static final String COLD_EXTRA = "cold_service_extra_s";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One measured value, the number of observations behind it and how it was fitted. */
  public record Figure(double value, int observations, String how) {}

  /** What one model measured; a null figure was not measured. */
  public record ModelFigures(Figure bytes, Figure prefillTokensPerSecond, Figure decodeTokensPerSecond, Figure kvBytesPerToken,
      Figure coldServiceExtraSeconds) {
    /** Figures without a cold-service extra. */
    public ModelFigures(Figure bytes, Figure prefillTokensPerSecond, Figure decodeTokensPerSecond, Figure kvBytesPerToken) {
      this(bytes, prefillTokensPerSecond, decodeTokensPerSecond, kvBytesPerToken, null);
    }
  }

  /**
   * {@code table} with the measured figures of this profile in place of the table's: each model's
   * resident bytes (exact) and service rates; models the profile does not name are left as they are.
   */
  public ModelTable applyTo(ModelTable table) {
    List<ModelSpec> out = new ArrayList<>();
    for (ModelSpec m : table.models()) {
      ModelFigures f = models.get(m.name());
      if (f == null) {
        out.add(m);
        continue;
      }
      SizeRange size = f.bytes() == null ? m.size() : SizeRange.exactly(Math.round(f.bytes().value()) - m.details().overheadBytes());
      Performance p = m.performance();
      Performance perf = new Performance(f.kvBytesPerToken() == null ? p.kvBytesPerToken() : Math.round(f.kvBytesPerToken().value()),
          f.prefillTokensPerSecond() == null ? p.prefillTokensPerSecond() : f.prefillTokensPerSecond().value(),
          f.decodeTokensPerSecond() == null ? p.decodeTokensPerSecond() : f.decodeTokensPerSecond().value());
      out.add(new ModelSpec(m.name(), m.aliases(), size, perf, m.details()));
    }
    return ModelTable.of(out);
  }

  // ---- the file ----

  /** Writes the profile as documented JSON. */
  public void write(Path file) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", 1);
    root.put("source", source);
    ObjectNode host = root.putObject("host");
    figures.forEach((name, f) -> figure(host, name, f));
    LoadSpread loadSpread = this.host.loadSpread();
    if (!loadSpread.isNone()) {
      ObjectNode spread = host.putObject(SPREAD);
      loadSpread.warmupSeconds().forEach(spread.putArray("warmup_s")::add);
      loadSpread.relative().forEach(spread.putArray("relative")::add);
      ObjectNode offsets = spread.putObject("model_offset_s");
      loadSpread.offsetSeconds().forEach(offsets::put);
      if (!loadSpread.relativeByModel().isEmpty()) {
        ObjectNode own = spread.putObject("relative_by_model");
        loadSpread.relativeByModel().forEach((model, values) -> values.forEach(own.putArray(model)::add));
      }
      spread.put("observations", loadSpread.relative().size());
      spread.put("how", "load lines: warmup_s, the process's first loads, seconds beyond the line, in order (a simulated"
          + " process's first loads take them); model_offset_s, each model's median seconds beyond the line (models with 3"
          + " or more later loads); relative, every later load's time over its usual one (line + offset, the eviction"
          + " delay taken off), over the median of that, minus 1, sorted (the process's n-th later load takes its model's"
          + " usual time times 1 + one of them); relative_by_model, the same of one model, in place of relative for it,"
          + " for models with 30 or more later loads");
    }
    ObjectNode models = root.putObject("models");
    this.models.forEach((name, m) -> {
      ObjectNode model = models.putObject(name);
      if (m.bytes() != null) {
        figure(model, "bytes", m.bytes());
      }
      if (m.prefillTokensPerSecond() != null) {
        figure(model, "prefill_tokens_per_s", m.prefillTokensPerSecond());
      }
      if (m.decodeTokensPerSecond() != null) {
        figure(model, "decode_tokens_per_s", m.decodeTokensPerSecond());
      }
      if (m.kvBytesPerToken() != null) {
        figure(model, "kv_bytes_per_token", m.kvBytesPerToken());
      }
      if (m.coldServiceExtraSeconds() != null) {
        figure(model, COLD_EXTRA, m.coldServiceExtraSeconds());
      }
    });
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
  }

  private static void figure(ObjectNode parent, String name, Figure f) {
    ObjectNode node = parent.putObject(name);
    if (f.value() == Math.rint(f.value()) && Math.abs(f.value()) < 1e15) {
      node.put("value", (long) f.value());
    } else {
      node.put("value", f.value());
    }
    node.put("observations", f.observations());
    node.put("how", f.how());
  }

  /**
   * Reads a profile written by {@code calibrate}.
   *
   * @throws InvalidInputException naming the file and what is wrong, in one sentence
   */
  public static Profile read(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("--profile " + file + " does not exist; make one with: mlxcap calibrate --trace RECORDING -o "
          + file);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidInputException("--profile " + file + " is not JSON: " + io.mlxcap.JsonErrors.reason(e));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read --profile " + file + ": " + e.getMessage(), e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new InvalidInputException("--profile " + file + " is not a host profile (\"format\" is not \"" + FORMAT + "\")");
    }
    JsonNode host = root.path("host");
    Map<String, Figure> figures = new LinkedHashMap<>();
    if (host.has("load_time_residuals_s")) {
      throw new InvalidInputException("--profile " + file + " was written by an earlier calibrate (it has load_time_residuals_s,"
          + " now load_time_spread); run mlxcap calibrate on its recording again");
    }
    host.fields().forEachRemaining(e -> {
      if (!e.getKey().equals(SPREAD)) {
        figures.put(e.getKey(), figure(file, e.getKey(), e.getValue()));
      }
    });
    JsonNode spread = host.path(SPREAD);
    List<Double> warmup = new ArrayList<>();
    spread.path("warmup_s").forEach(v -> warmup.add(number(file, SPREAD + ".warmup_s", v)));
    List<Double> relative = new ArrayList<>();
    spread.path("relative").forEach(v -> relative.add(number(file, SPREAD + ".relative", v)));
    Map<String, Double> offsets = new LinkedHashMap<>();
    spread.path("model_offset_s").fields().forEachRemaining(e -> offsets.put(e.getKey(),
        number(file, SPREAD + ".model_offset_s." + e.getKey(), e.getValue())));
    Map<String, List<Double>> own = new LinkedHashMap<>();
    spread.path("relative_by_model").fields().forEachRemaining(e -> {
      List<Double> values = new ArrayList<>();
      e.getValue().forEach(v -> values.add(number(file, SPREAD + ".relative_by_model." + e.getKey(), v)));
      own.put(e.getKey(), values);
    });
    Map<String, ModelFigures> models = new LinkedHashMap<>();
    root.path("models").fields().forEachRemaining(e -> {
      JsonNode m = e.getValue();
      models.put(e.getKey(), new ModelFigures(
          m.has("bytes") ? figure(file, e.getKey() + ".bytes", m.get("bytes")) : null,
          m.has("prefill_tokens_per_s") ? figure(file, e.getKey() + ".prefill_tokens_per_s", m.get("prefill_tokens_per_s")) : null,
          m.has("decode_tokens_per_s") ? figure(file, e.getKey() + ".decode_tokens_per_s", m.get("decode_tokens_per_s")) : null,
          m.has("kv_bytes_per_token") ? figure(file, e.getKey() + ".kv_bytes_per_token", m.get("kv_bytes_per_token")) : null,
          m.has(COLD_EXTRA) ? figure(file, e.getKey() + "." + COLD_EXTRA, m.get(COLD_EXTRA)) : null));
    });
    HostProfile profile;
    try {
      profile = hostOf(figures, new LoadSpread(warmup, relative, offsets, own), models);
    } catch (InvalidInputException e) {
      throw new InvalidInputException("--profile " + file + ": " + e.getMessage());
    }
    return new Profile(profile, figures, models, root.path("source").asText(""));
  }

  /** A profile of these measured figures; a figure not measured keeps {@link HostProfile#DEFAULT}'s value. */
  public static Profile of(Map<String, Figure> figures, LoadSpread loadSpread, Map<String, ModelFigures> models,
      String source) {
    return new Profile(hostOf(figures, loadSpread, models), figures, models, source);
  }

  private static HostProfile hostOf(Map<String, Figure> figures, LoadSpread loadSpread, Map<String, ModelFigures> models) {
    Map<String, Double> cold = new LinkedHashMap<>();
    models.forEach((name, m) -> {
      if (m.coldServiceExtraSeconds() != null && m.coldServiceExtraSeconds().observations() > 0) {
        cold.put(name, m.coldServiceExtraSeconds().value());
      }
    });
    HostProfile d = HostProfile.DEFAULT;
    return new HostProfile(
        (long) value(figures, "ram_bytes", d.ramBytes()),
        (long) value(figures, "other_bytes", d.otherBytes()),
        (long) value(figures, "runtime_base_bytes", d.runtimeBaseBytes()),
        value(figures, "load_bytes_per_s", d.loadBytesPerSecond()),
        Duration.ofNanos(Math.round(value(figures, "load_overhead_s", d.loadOverhead().toNanos() / 1e9) * 1e9)),
        value(figures, "load_transient", d.loadTransient()),
        (long) value(figures, "growth_per_load_bytes", d.growthPerLoadBytes()),
        loadSpread,
        value(figures, "load_s_per_evicted_byte", d.loadSecondsPerEvictedByte()),
        new io.mlxcap.sim.ServiceContention(value(figures, "service_slowdown_per_generation", 0), cold));
  }

  private static double value(Map<String, Figure> figures, String name, double fallback) {
    Figure f = figures.get(name);
    return f == null || f.observations() == 0 ? fallback : f.value();
  }

  private static double number(Path file, String name, JsonNode node) {
    if (!node.isNumber()) {
      throw new InvalidInputException("--profile " + file + ": \"" + name + "\" holds " + node + ", not a number");
    }
    return node.asDouble();
  }

  private static Figure figure(Path file, String name, JsonNode node) {
    if (!node.path("value").isNumber()) {
      throw new InvalidInputException("--profile " + file + ": \"" + name + "\" needs a numeric \"value\"");
    }
    return new Figure(node.get("value").asDouble(), node.path("observations").asInt(0), node.path("how").asText(""));
  }
}
