// Portable matmul kernel for CPUs without AVX2: each weight row is widened once
// into a float buffer, then dotted with every row of x.
#include <vector>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"

namespace optipfair::detail {
namespace {

void widen_row(float* dst, const uint8_t* row, DType dtype, int64_t K) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, row, static_cast<size_t>(K) * 4);
      break;
    case DType::F16:
    case DType::BF16:
      for (int64_t k = 0; k < K; ++k) {
        uint16_t h;
        std::memcpy(&h, row + 2 * k, 2);
        dst[k] = dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      break;
    default:  // the block types
      dequantize_blocks(dtype, row, dst, K);
      break;
  }
}

// Eight interleaved partial sums: lets the compiler keep them in SSE registers
// and fixes the summation order, so the result does not depend on threading.
float dot(const float* x, const float* w, int64_t K) {
  float s[8] = {};
  int64_t k = 0;
  for (; k + 8 <= K; k += 8)
    for (int i = 0; i < 8; ++i) s[i] += x[k + i] * w[k + i];
  for (int i = 0; k < K; ++k, ++i) s[i] += x[k] * w[k];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

}  // namespace

void matmul_rows_scalar(const MatmulArgs& a, int64_t n0, int64_t n1) {
  thread_local std::vector<float> wrow;
  wrow.resize(static_cast<size_t>(a.K));
  for (int64_t n = n0; n < n1; ++n) {
    widen_row(wrow.data(), a.w + static_cast<size_t>(n) * a.row_bytes, a.dtype, a.K);
    for (int64_t t = 0; t < a.T; ++t) a.y[t * a.ldy + n] = dot(a.x + t * a.K, wrow.data(), a.K);
  }
}

}  // namespace optipfair::detail
