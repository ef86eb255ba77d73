// Q4_0 weights repacked into the fast path's panels (layout in kernels/matmul.h): the same bytes
// as the file's blocks, the quants transposed 4 bytes at a time across 16 rows and the scales
// gathered after them, so that the integer kernel loads 16 rows' quants and scales in whole
// vectors. Done once per matrix when a model is prepared for fast products.
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/matmul.h"
#include "kernels/quants.h"
#include "util/error.h"

namespace optipfair {
namespace {

constexpr int64_t kBlockQuantBytes = kQ4_0PanelRows * 16;  // a block's quants for 16 rows
constexpr int64_t kBlockScaleBytes = kQ4_0PanelRows * 2;

}  // namespace

int64_t q4_0_panel_bytes(int64_t cols) {
  return (cols / 32 * (kBlockQuantBytes + kBlockScaleBytes) + 63) / 64 * 64;
}

size_t q4_0_panels_size(int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) throw Error("cannot pack a weight matrix of negative shape.");
  if (cols % 32 != 0) throw Error("a Q4_0 matrix's rows must hold whole blocks of 32 values, not " + std::to_string(cols) + ".");
  const int64_t panels = (rows + kQ4_0PanelRows - 1) / kQ4_0PanelRows;
  int64_t bytes = 0;
  if (cols > INT64_MAX / 32 || __builtin_mul_overflow(panels, q4_0_panel_bytes(cols), &bytes))
    throw Error("a weight matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
                " values is too large to pack.");
  return static_cast<size_t>(bytes);
}

void q4_0_panels_pack(uint8_t* dst, const WeightMatrix& w) {
  if (w.dtype != DType::Q4_0)
    throw Error(std::string("only Q4_0 weights are packed into Q4_0 panels, not ") + dtype_name(w.dtype) + ".");
  q4_0_panels_size(w.rows, w.cols);  // the checks
  const int64_t nb = w.cols / 32, stride = q4_0_panel_bytes(w.cols);
  if (w.rows > 0 && nb > 0 && (w.data == nullptr || w.row_bytes < static_cast<size_t>(nb) * sizeof(BlockQ4_0)))
    throw Error("cannot pack a weight matrix without data or with rows shorter than its columns.");
  const int64_t panels = (w.rows + kQ4_0PanelRows - 1) / kQ4_0PanelRows;
  const auto* base = static_cast<const uint8_t*>(w.data);
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(w.rows) * w.cols >= (int64_t{1} << 20))
  for (int64_t pi = 0; pi < panels; ++pi) {
    uint8_t* quants = dst + pi * stride;
    std::memset(quants, 0, static_cast<size_t>(stride));  // rows past the last, the padding to 64 bytes
    uint8_t* scales = quants + nb * kBlockQuantBytes;
    for (int64_t r = 0; r < kQ4_0PanelRows && pi * kQ4_0PanelRows + r < w.rows; ++r) {
      const auto* blocks = reinterpret_cast<const BlockQ4_0*>(base + static_cast<size_t>(pi * kQ4_0PanelRows + r) * w.row_bytes);
      for (int64_t b = 0; b < nb; ++b) {
        std::memcpy(scales + b * kBlockScaleBytes + 2 * r, &blocks[b].d, 2);
        for (int64_t g = 0; g < 4; ++g) std::memcpy(quants + b * kBlockQuantBytes + 64 * g + 4 * r, blocks[b].qs + 4 * g, 4);
      }
    }
  }
}

}  // namespace optipfair
