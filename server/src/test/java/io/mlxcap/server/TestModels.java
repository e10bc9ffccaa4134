package io.mlxcap.server;

import io.mlxcap.model.ModelTable;
import io.mlxcap.server.model.DjlEngine;
import io.mlxcap.server.model.SynthModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The seed's four models at 1/200 of their size (13.75 MB to 325 MB), built once per test run under
 * target/, and the DJL engine started once.
 */
public final class TestModels {
  public static final double SCALE = 1.0 / 200;
  private static Path dir;

  private TestModels() {}

  /** The folder holding the models and their models.json. */
  public static synchronized Path dir() {
    if (dir == null) {
      Path target = Path.of(System.getProperty("mlxcap.testModels", "target/test-models"));
      try {
        if (!Files.exists(target.resolve("models.json"))) {
          SynthModels.write(ModelTable.defaults(), SCALE, 7, target);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      DjlEngine.start(Path.of(System.getProperty("ENGINE_CACHE_DIR", "target/djl-cache")));
      dir = target;
    }
    return dir;
  }

  /** The table of the test models, with their exact sizes. */
  public static ModelTable table() {
    return ModelTable.load(dir().resolve("models.json"));
  }
}
