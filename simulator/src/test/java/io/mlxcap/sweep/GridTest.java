package io.mlxcap.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mlxcap.InvalidInputException;
import io.mlxcap.model.ModelTable;
import io.mlxcap.sim.HostParameter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class GridTest {
  private final ModelTable table = ModelTable.defaults();

  @Test
  void axis_rangesListsAndPreloadLists() {
    assertEquals(List.of("1", "2", "3", "4", "off"), Axis.parse("MLX_MAX_CACHED_MODELS=1..4,off").values());
    assertEquals(List.of("", "fast", "default,fast"), Axis.parse("MLX_PRELOAD_MODELS=;fast;default,fast").values());
    Axis host = Axis.ofHost(HostParameter.HOST_RAM, "64GiB,128GiB");
    assertEquals("host-ram", host.name());
    assertEquals(List.of("64GiB", "128GiB"), host.values());
    assertEquals(List.of("1", "2"), Axis.parse("MLX_MAX_QUEUE=1,1,2").values(), "repeats dropped");
  }

  @Test
  void axis_badInput_oneSentenceNamingIt() {
    String unknown = assertThrows(InvalidInputException.class, () -> Axis.parse("MLX_MAX_CACHE_MODELS=1,2")).getMessage();
    assertTrue(unknown.startsWith("--grid MLX_MAX_CACHE_MODELS: not a setting or host parameter; axes: MLX_MAX_CACHED_MODELS,"),
        unknown);
    assertTrue(unknown.endsWith("load-overhead, load-transient, load-growth"), unknown);
    assertEquals("--grid MLX_MAX_QUEUE: no values; write e.g. MLX_MAX_QUEUE=1,2,3",
        assertThrows(InvalidInputException.class, () -> Axis.parse("MLX_MAX_QUEUE=")).getMessage());
    assertEquals("--grid MLX_MAX_CACHED_MODELS: the range 4..1 goes downwards; write it 1..4",
        assertThrows(InvalidInputException.class, () -> Axis.parse("MLX_MAX_CACHED_MODELS=4..1")).getMessage());
    assertEquals("--grid MLX_MAX_QUEUE: the range 1..100000 holds 100,000 values; an axis holds at most 10,001",
        assertThrows(InvalidInputException.class, () -> Axis.parse("MLX_MAX_QUEUE=1..100000")).getMessage());
    InvalidInputException bad = assertThrows(InvalidInputException.class,
        () -> new Grid(List.of(Axis.parse("MLX_MAX_CACHED_MODELS=1,zero")), table));
    assertEquals("--grid MLX_MAX_CACHED_MODELS: MLX_MAX_CACHED_MODELS='zero' is invalid: not a whole number; allowed: a"
        + " whole number >= 1, or off for no cap (the server before the seed's fix).", bad.getMessage());
    assertTrue(assertThrows(InvalidInputException.class, () -> new Grid(List.of(Axis.parse("host-ram=lots")), table))
        .getMessage().startsWith("--grid host-ram: --host-ram 'lots': "));
    assertTrue(assertThrows(InvalidInputException.class, () -> new Grid(List.of(), table)).getMessage()
        .startsWith("the grid is empty"));
    assertTrue(assertThrows(InvalidInputException.class, () -> new Grid(List.of(Axis.parse("MLX_MAX_QUEUE=1"),
        Axis.parse("MLX_MAX_QUEUE=2")), table)).getMessage().contains("given twice"));
  }

  @Test
  void configurations_cartesianProduct_lastAxisFastest() {
    Grid grid = new Grid(List.of(Axis.parse("MLX_MAX_CACHED_MODELS=1,2"), Axis.parse("MLX_MAX_CACHE_BYTES=off,64GiB,96GiB"),
        Axis.parse("host-ram=64GiB,128GiB")), table);
    assertEquals(12, grid.size());
    List<Configuration> all = grid.configurations();
    assertEquals(12, all.size());
    assertEquals("MLX_MAX_CACHED_MODELS=1 MLX_MAX_CACHE_BYTES=off host-ram=64GiB", all.get(0).label());
    assertEquals("MLX_MAX_CACHED_MODELS=1 MLX_MAX_CACHE_BYTES=off host-ram=128GiB", all.get(1).label());
    assertEquals("MLX_MAX_CACHED_MODELS=1 MLX_MAX_CACHE_BYTES=64GiB host-ram=64GiB", all.get(2).label());
    assertEquals("MLX_MAX_CACHED_MODELS=2 MLX_MAX_CACHE_BYTES=96GiB host-ram=128GiB", all.get(11).label());
    assertEquals(Map.of(HostParameter.HOST_RAM, "128GiB"), all.get(11).host());
  }

  @Test
  void size_pastTheLimit_refusedUnlessForced() {
    Grid grid = new Grid(List.of(Axis.parse("MLX_MAX_QUEUE=0..999"), Axis.parse("MLX_MAX_CACHED_MODELS=1..101")), table);
    assertEquals(101_000, grid.size());
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> grid.checkSize(false));
    assertEquals("the grid holds 101,000 configurations, more than 100,000; narrow an axis or add --force", e.getMessage());
    grid.checkSize(true);
  }

  @Test
  void aCombinationTheSettingsRefuse_isSkippedWithTheReason() {
    Configuration c = Configuration.of(Map.of("MLX_CACHE_CLEANUP_INTERVAL_SEC", "0", "MLX_MODEL_IDLE_TTL_SEC", "900"),
        Map.of());
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> c.resolve(Map.of(), table, io.mlxcap.sim.HostProfile.DEFAULT, Map.of()));
    assertTrue(e.getMessage().startsWith("MLX_MODEL_IDLE_TTL_SEC='900' needs periodic cleanup"), e.getMessage());
  }
}
