package io.mlxcap.inspect;

import java.util.Optional;

/**
 * The GGML tensor types mlxcap can size: elements per block and bytes per block, from the block
 * structures of ggml (e.g. Q4_0: a 2-byte scale and 16 bytes of 4-bit values per 32 elements).
 */
enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q4_1(3, 32, 20),
  Q5_0(6, 32, 22),
  Q5_1(7, 32, 24),
  Q8_0(8, 32, 34),
  Q8_1(9, 32, 36),
  Q2_K(10, 256, 84),
  Q3_K(11, 256, 110),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  Q8_K(15, 256, 292),
  IQ4_NL(20, 32, 18),
  IQ4_XS(23, 256, 136),
  I8(24, 1, 1),
  I16(25, 1, 2),
  I32(26, 1, 4),
  I64(27, 1, 8),
  F64(28, 1, 8),
  BF16(30, 1, 2);

  private final int id;
  private final int blockElements;
  private final int blockBytes;

  GgmlType(int id, int blockElements, int blockBytes) {
    this.id = id;
    this.blockElements = blockElements;
    this.blockBytes = blockBytes;
  }

  int id() {
    return id;
  }

  /** Bytes of {@code elements} values of this type, whole blocks. */
  long bytes(long elements) {
    return Math.multiplyExact((elements + blockElements - 1) / blockElements, blockBytes);
  }

  static Optional<GgmlType> byId(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
