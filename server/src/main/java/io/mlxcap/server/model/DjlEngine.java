package io.mlxcap.server.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.file.Path;

/**
 * The PyTorch engine of DJL, started offline with its native libraries under a folder the project
 * owns (DJL-NOTES.md), and glibc's {@code malloc_trim} so that freed model memory leaves the process.
 */
public final class DjlEngine {
  private static NDManager root;

  private DjlEngine() {}

  /** Starts the engine once, extracting libtorch into {@code cacheDir} if it is not there yet. */
  public static synchronized NDManager start(Path cacheDir) {
    if (root == null) {
      System.setProperty("ai.djl.offline", "true");
      if (System.getProperty("ENGINE_CACHE_DIR") == null && System.getenv("ENGINE_CACHE_DIR") == null) {
        System.setProperty("ENGINE_CACHE_DIR", cacheDir.toAbsolutePath().toString());
      }
      System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "off");
      root = NDManager.newBaseManager(Device.cpu());
    }
    return root;
  }

  /** The manager models are created under; the engine must have been started. */
  public static synchronized NDManager root() {
    if (root == null) {
      throw new IllegalStateException("the DJL engine is not started");
    }
    return root;
  }

  /** Hands memory glibc keeps after frees back to the operating system; false where glibc is absent. */
  public static boolean trim() {
    try {
      return LibC.INSTANCE.malloc_trim(0) == 1;
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      return false;
    }
  }

  /** glibc, through JNA. */
  private interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int malloc_trim(long pad);
  }
}
