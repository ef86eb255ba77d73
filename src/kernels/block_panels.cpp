// Every GGUF block type's weights repacked into the fast path's panels (layout in kernels/matmul.h):
// the same values as the file's blocks, per block the quants transposed 4 bytes at a time across 16
// rows (Q8_0's plus 128; Q5_0 and Q5_1's fifth bits regrouped so that each quant vector finds its
// bits by one shift) and then the 16 rows' scales (the K-quants' sub-block scales and minimums
// unpacked to bytes), so that the integer kernel loads 16 rows' quants and scales in whole vectors
// from one stream. Done once per matrix when a model is prepared for fast products.
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "kernels/matmul.h"
#include "kernels/quants.h"
#include "util/error.h"

namespace optipfair {
namespace {

constexpr int64_t kBlockScaleBytes = kBlockPanelRows * 2;
// A K-quant block's parts for the panel's 16 rows (layouts in kernels/matmul.h).
constexpr int64_t kQ4KQuantBytes = kBlockPanelRows * 128, kQ5KQuantBytes = kBlockPanelRows * 160;
constexpr int64_t kQ4KSubBytes = kBlockPanelRows * 8;  // one byte per row and sub-block
constexpr int64_t kQ6KLowBytes = kBlockPanelRows * 128, kQ6KHighBytes = kBlockPanelRows * 64;
constexpr int64_t kQ6KScaleBytes = kBlockPanelRows * 16;

bool five_bits(DType t) { return t == DType::Q5_0 || t == DType::Q5_1; }
bool has_min(DType t) { return t == DType::Q4_1 || t == DType::Q5_1; }

// Bytes of one 32-value block's quants for the panel's 16 rows (with Q5_0 and Q5_1 the vector of
// their fifth bits); the 16 scales follow, then for Q4_1 and Q5_1 the 16 minimums.
int64_t block_quant_bytes(DType t) { return kBlockPanelRows * (t == DType::Q8_0 ? 32 : five_bits(t) ? 20 : 16); }

// Columns of one block, and the bytes one block takes in a panel (16 rows' worth).
int64_t unit_cols(DType t) { return t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K ? kQKBlockSize : 32; }
int64_t unit_bytes(DType t) {
  if (t == DType::Q4_K) return kQ4KQuantBytes + 2 * kQ4KSubBytes + 2 * kBlockScaleBytes;
  if (t == DType::Q5_K) return kQ5KQuantBytes + 2 * kQ4KSubBytes + 2 * kBlockScaleBytes;
  if (t == DType::Q6_K) return kQ6KLowBytes + kQ6KHighBytes + kQ6KScaleBytes + kBlockScaleBytes;
  return block_quant_bytes(t) + kBlockScaleBytes * (has_min(t) ? 2 : 1);
}

// A Q5_0 or Q5_1 row's 32 fifth bits (bit j: value j's) regrouped for the kernel's quant vectors:
// byte k of the row's 4 holds in bit g the bit of value 4g + k and in bit 4 + g that of value
// 16 + 4g + k, the values that quant vector g (low nibbles) and g + 4 (high) hold in byte k.
void regroup_fifth_bits(uint32_t qh, uint8_t out[4]) {
  for (int k = 0; k < 4; ++k) {
    uint8_t b = 0;
    for (int g = 0; g < 4; ++g) {
      b = static_cast<uint8_t>(b | ((qh >> (4 * g + k)) & 1u) << g);
      b = static_cast<uint8_t>(b | ((qh >> (16 + 4 * g + k)) & 1u) << (4 + g));
    }
    out[k] = b;
  }
}

// Row r's 32-value block into its place in a panel's block: its quant bytes by 4-byte words,
// the fifth bits, its float16 scale (and minimum).
void pack_block32(DType t, uint8_t* unit, int64_t r, const uint8_t* blk) {
  const int64_t quant_bytes = block_quant_bytes(t);
  const bool eight = t == DType::Q8_0, five = five_bits(t), min = has_min(t);
  const uint8_t* qs = blk + dtype_block_bytes(t) - (eight ? 32 : 16);
  for (int64_t g = 0; g < (eight ? 8 : 4); ++g) {
    uint8_t* out = unit + 64 * g + 4 * r;
    std::memcpy(out, qs + 4 * g, 4);
    if (eight)
      for (int i = 0; i < 4; ++i) out[i] ^= 0x80;  // int8 + 128: vpdpbusd's unsigned side
  }
  if (five) {
    uint32_t qh;
    std::memcpy(&qh, blk + (min ? 4 : 2), 4);
    regroup_fifth_bits(qh, unit + 256 + 4 * r);
  }
  std::memcpy(unit + quant_bytes + 2 * r, blk, 2);  // d, first in every block
  if (min) std::memcpy(unit + quant_bytes + kBlockScaleBytes + 2 * r, blk + 2, 2);
}

// Row r's Q4_K or Q5_K block into its place in a panel's block: its 4 x 32 quant bytes by 4-byte
// words (Q4_K: word g of 32-byte chunk c to vector 8c + g; Q5_K: qh word g to vector 5g, then
// word g of chunk c to vector 5g + 1 + c), its 8 sub-block scales and minimums as bytes, its two
// float16 super-block scales.
template <class Block>
void pack_qk45(uint8_t* unit, int64_t r, const uint8_t* blk) {
  constexpr bool five = std::is_same_v<Block, BlockQ5_K>;
  const auto b = load_block<Block>(blk);
  for (int64_t v = 0; v < 32; ++v) {
    const int64_t c = v / 8, g = v % 8;
    std::memcpy(unit + 64 * (five ? 5 * g + 1 + c : v) + 4 * r, b.qs + 4 * v, 4);
  }
  if constexpr (five)
    for (int64_t g = 0; g < 8; ++g) std::memcpy(unit + 64 * 5 * g + 4 * r, b.qh + 4 * g, 4);
  uint8_t* sub = unit + (five ? kQ5KQuantBytes : kQ4KQuantBytes);
  for (int j = 0; j < 8; ++j) k_scale_min(j, b.scales, sub[16 * j + r], sub[kQ4KSubBytes + 16 * j + r]);
  std::memcpy(sub + 2 * kQ4KSubBytes + 2 * r, &b.d, 2);
  std::memcpy(sub + 2 * kQ4KSubBytes + kBlockScaleBytes + 2 * r, &b.dmin, 2);
}

// Row r's Q6_K block into its place: its low-bit and high-bit bytes by 4-byte words, for each half
// h and word g the vectors of ql words 16h + g and 16h + 8 + g and of qh word 8h + g side by side
// (the three a value's bits come from), then its 16 scales, then its float16 d.
void pack_q6_k(uint8_t* unit, int64_t r, const uint8_t* blk) {
  const auto b = load_block<BlockQ6_K>(blk);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t g = 0; g < 8; ++g) {
      uint8_t* v = unit + 64 * (24 * h + 3 * g) + 4 * r;
      std::memcpy(v, b.ql + 4 * (16 * h + g), 4);
      std::memcpy(v + 64, b.ql + 4 * (16 * h + 8 + g), 4);
      std::memcpy(v + 128, b.qh + 4 * (8 * h + g), 4);
    }
  uint8_t* scales = unit + kQ6KLowBytes + kQ6KHighBytes;
  for (int64_t k = 0; k < 16; ++k) std::memcpy(scales + 16 * k + r, b.scales + k, 1);
  std::memcpy(scales + kQ6KScaleBytes + 2 * r, &b.d, 2);
}

}  // namespace

bool block_panels_take(DType t) { return dtype_is_quantized(t); }

int64_t block_panel_bytes(DType t, int64_t cols) { return (cols / unit_cols(t) * unit_bytes(t) + 63) / 64 * 64; }

size_t block_panels_size(DType t, int64_t rows, int64_t cols) {
  if (!block_panels_take(t)) throw Error(std::string("only GGUF block types are packed into block panels, not ") + dtype_name(t) + ".");
  if (rows < 0 || cols < 0) throw Error("cannot pack a weight matrix of negative shape.");
  if (cols % unit_cols(t) != 0)
    throw Error("a " + std::string(dtype_name(t)) + " matrix's rows must hold whole blocks of " + std::to_string(unit_cols(t)) +
                " values, not " + std::to_string(cols) + ".");
  const int64_t panels = (rows + kBlockPanelRows - 1) / kBlockPanelRows;
  int64_t bytes = 0;
  if (cols > INT64_MAX / 32 || __builtin_mul_overflow(panels, block_panel_bytes(t, cols), &bytes))
    throw Error("a weight matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
                " values is too large to pack.");
  return static_cast<size_t>(bytes);
}

void block_panels_pack(uint8_t* dst, const WeightMatrix& w) {
  block_panels_size(w.dtype, w.rows, w.cols);  // the checks
  const bool k_quant = unit_cols(w.dtype) == kQKBlockSize;
  const int64_t nb = w.cols / unit_cols(w.dtype), stride = block_panel_bytes(w.dtype, w.cols), step = unit_bytes(w.dtype);
  const size_t block_bytes = dtype_block_bytes(w.dtype);
  if (w.rows > 0 && nb > 0 && (w.data == nullptr || w.row_bytes < static_cast<size_t>(nb) * block_bytes))
    throw Error("cannot pack a weight matrix without data or with rows shorter than its columns.");
  const int64_t panels = (w.rows + kBlockPanelRows - 1) / kBlockPanelRows;
  const auto* base = static_cast<const uint8_t*>(w.data);
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(w.rows) * w.cols >= (int64_t{1} << 20))
  for (int64_t pi = 0; pi < panels; ++pi) {
    uint8_t* panel = dst + pi * stride;
    std::memset(panel, 0, static_cast<size_t>(stride));  // rows past the last, the padding to 64 bytes
    for (int64_t r = 0; r < kBlockPanelRows && pi * kBlockPanelRows + r < w.rows; ++r) {
      const uint8_t* row = base + static_cast<size_t>(pi * kBlockPanelRows + r) * w.row_bytes;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = row + static_cast<size_t>(b) * block_bytes;
        uint8_t* unit = panel + b * step;
        if (k_quant) {
          const auto pack = w.dtype == DType::Q4_K   ? pack_qk45<BlockQ4_K>
                            : w.dtype == DType::Q5_K ? pack_qk45<BlockQ5_K>
                                                     : pack_q6_k;
          pack(unit, r, blk);
        } else {
          pack_block32(w.dtype, unit, r, blk);
        }
      }
    }
  }
}

}  // namespace optipfair
