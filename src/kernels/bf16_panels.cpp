// BF16 weights repacked into the fast path's panels (layout in kernels/matmul.h). Packing is a
// copy in a different order, done once per matrix when a model is prepared for fast products.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/matmul.h"
#include "util/error.h"

namespace optipfair {

int64_t bf16_panel_stride(int64_t cols) { return (cols + 1) / 2 * kPanelRows * 2; }

size_t bf16_panels_size(int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) throw Error("cannot pack a weight matrix of negative shape.");
  const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
  int64_t elements = 0;
  if (cols > INT64_MAX / (2 * kPanelRows) || __builtin_mul_overflow(panels, bf16_panel_stride(cols), &elements))
    throw Error("a weight matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
                " values is too large to pack.");
  return static_cast<size_t>(elements);
}

void bf16_panels_pack(uint16_t* dst, const WeightMatrix& w) {
  if (w.dtype != DType::BF16)
    throw Error(std::string("only BF16 weights are packed into panels, not ") + dtype_name(w.dtype) + ".");
  if (w.rows > 0 && w.cols > 0 && (w.data == nullptr || w.row_bytes < static_cast<size_t>(w.cols) * 2))
    throw Error("cannot pack a weight matrix without data or with rows shorter than its columns.");
  const int64_t pairs = (w.cols + 1) / 2, full = w.cols / 2, stride = bf16_panel_stride(w.cols);
  const int64_t panels = (w.rows + kPanelRows - 1) / kPanelRows;
  const auto* base = static_cast<const uint8_t*>(w.data);
  // Blocks of 16 column pairs: the block's 64 rows x 64 bytes are read once, a line of each row,
  // and its 4 KB of output (16 pairs x 256 bytes) is filled in L1 rather than scattered over a
  // whole panel (up to 1 MB). Either way the cost is mostly the kernel zeroing the fresh pages
  // (docs/performance_forward.md).
  constexpr int64_t kPairsPerBlock = 16;
  const int64_t blocks = (pairs + kPairsPerBlock - 1) / kPairsPerBlock;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(w.rows) * w.cols >= (int64_t{1} << 20))
  for (int64_t item = 0; item < panels * blocks; ++item) {
    const int64_t pi = item / blocks, p0 = item % blocks * kPairsPerBlock;
    const int64_t p1 = std::min(pairs, p0 + kPairsPerBlock);
    uint16_t* out = dst + pi * stride + p0 * kPanelRows * 2;
    for (int64_t r = 0; r < kPanelRows; ++r) {
      const int64_t n = pi * kPanelRows + r;
      uint32_t pair[kPairsPerBlock] = {};
      if (n < w.rows) {
        const uint8_t* row = base + static_cast<size_t>(n) * w.row_bytes;
        const int64_t whole = std::min(p1, full) - p0;
        if (whole == kPairsPerBlock) std::memcpy(pair, row + 4 * p0, sizeof pair);  // inlined: one 64-byte copy
        else if (whole > 0) std::memcpy(pair, row + 4 * p0, static_cast<size_t>(whole) * 4);
        if (p1 > full && full >= p0) std::memcpy(&pair[full - p0], row + 4 * full, 2);  // odd K: the high half stays 0
      }
      for (int64_t p = 0; p < p1 - p0; ++p) std::memcpy(out + (p * kPanelRows + r) * 2, &pair[p], 4);
    }
  }
}

}  // namespace optipfair
