// The block-quantised weight types of GGUF files as ollama and the Hub hand them out (Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0 and the K-quants Q4_K, Q5_K, Q6_K): their block layouts and the reference
// dequantisation, written from ggml's formulas (ggml-quants.c, dequantize_row_*) with the same
// order of float operations, so every value matches ggml's bit for bit (tested against values
// ggml produced). Weights stay quantised in memory; kernels widen one block at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/dtype.h"

namespace optipfair {

constexpr int kQKBlockSize = 256;  // elements in a K-quant super-block
constexpr int kKScaleBytes = 12;   // Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins

struct BlockQ4_0 {
  uint16_t d;       // f16 scale
  uint8_t qs[16];   // 32 four-bit quants: low nibbles are elements 0-15, high nibbles 16-31
};
struct BlockQ4_1 {
  uint16_t d, m;    // f16 scale and minimum
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];    // the fifth bit of each of the 32 quants
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ4_K {
  uint16_t d, dmin;               // f16 super-block scales for the scales and the mins
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQKBlockSize / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQKBlockSize / 8];
  uint8_t qs[kQKBlockSize / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQKBlockSize / 2];   // low four bits
  uint8_t qh[kQKBlockSize / 4];   // high two bits
  int8_t scales[kQKBlockSize / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ4_0) == dtype_block_bytes(DType::Q4_0) && sizeof(BlockQ4_1) == dtype_block_bytes(DType::Q4_1) &&
              sizeof(BlockQ5_0) == dtype_block_bytes(DType::Q5_0) && sizeof(BlockQ5_1) == dtype_block_bytes(DType::Q5_1) &&
              sizeof(BlockQ8_0) == dtype_block_bytes(DType::Q8_0) && sizeof(BlockQ4_K) == dtype_block_bytes(DType::Q4_K) &&
              sizeof(BlockQ5_K) == dtype_block_bytes(DType::Q5_K) && sizeof(BlockQ6_K) == dtype_block_bytes(DType::Q6_K));

// A block read from bytes of any alignment.
template <class Block>
Block load_block(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof b);
  return b;
}

// Q4_K / Q5_K: the 6-bit scale and minimum of sub-block j (of 8) from the 12 packed bytes.
inline void k_scale_min(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Widens n elements (a multiple of the type's block) stored from `src` into float32 dst, for any
// type. The reference every fast path is tested against.
void dequantize_blocks(DType t, const uint8_t* src, float* dst, int64_t n);

}  // namespace optipfair
