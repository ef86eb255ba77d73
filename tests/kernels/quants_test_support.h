// Helpers shared by the block-type tests (test_quants.cpp, test_block_panels.cpp): random blocks
// with sane scales, block panels of every type, and the oracle of the fast path's integer dot products.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul.h"
#include "kernels/quants.h"

namespace optipfair::quants_test {

// Offsets of the f16 scale fields inside a block: random bytes there could be NaN or huge.
inline std::vector<size_t> half_fields(DType t) {
  switch (t) {
    case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: return {0};
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: return {0, 2};
    case DType::Q6_K: return {208};
    default: return {};
  }
}

// `blocks` random blocks of type t with scales in a sane range.
inline std::vector<uint8_t> random_blocks(DType t, int64_t blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  const size_t bb = dtype_block_bytes(t);
  std::vector<uint8_t> out(bb * static_cast<size_t>(blocks));
  for (auto& b : out) b = static_cast<uint8_t>(byte(rng));
  for (int64_t i = 0; i < blocks; ++i)
    for (size_t off : half_fields(t)) {
      const uint16_t h = f32_to_f16(scale(rng));
      std::memcpy(out.data() + static_cast<size_t>(i) * bb + off, &h, 2);
    }
  return out;
}

// Packs a block-type matrix into panels held by `buffer` and points m at them. The buffer starts as 0xff,
// so bytes the packing forgot to write show up in the results.
inline void attach_block_panels(WeightMatrix& m, std::vector<uint8_t>& buffer) {
  buffer.assign(block_panels_size(m.dtype, m.rows, m.cols), 0xff);
  block_panels_pack(buffer.data(), m);
  m.panels = buffer.data();
}

// Fast mode on the block types with AVX512_VNNI: x is rounded to 8-bit integers per 256
// values for the K-quants (per 32 for the others), q = nearest-even(x * 127 / max|x|), x ~ q * max|x| / 127, and multiplied
// with integer dot products. The oracle rounds x that way itself and sums in double: the integer
// parts are exact, so what is left is float32 rounding of the widened weights (dequantize_blocks),
// of each block's scale and of the sum over blocks, well under (blocks + 16) * 2^-22 of
// sum |x w|; a wrong scale, offset or quant order errs by O(1) of it. Against the unrounded x the
// error is also bounded by half a step of x per value: sum over blocks of (max|x| / 254) * sum |w|.
// The caller sets the avx512bf16 instruction set. With `packed`, from its panels.
inline void expect_integer_dots_match_oracle(DType t, int64_t K, bool packed) {
  const int64_t xb_size = dtype_block_elements(t) == 32 ? 32 : 256;  // values sharing one x scale
  const int64_t N = 19, T = 6, nb = K / xb_size;
  const std::vector<uint8_t> w = random_blocks(t, N * K / dtype_block_elements(t), static_cast<uint32_t>(K + 1));
  WeightMatrix m{w.data(), t, N, K, dtype_bytes(t, K)};
  std::vector<uint8_t> panels;
  if (packed) attach_block_panels(m, panels);
  std::mt19937 rng(static_cast<uint32_t>(K));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T * K)), y(static_cast<size_t>(T * N));
  for (float& v : x) v = normal(rng);
  for (int64_t k = 0; k < 256; ++k) x[static_cast<size_t>(K + k)] = 0.0f;  // a block of zeros (row 1)
  x[static_cast<size_t>(2 * K + 7)] = 40.0f;                              // an outlier (row 2)
  matmul(y.data(), x.data(), T, m, Precision::Fast);
  std::vector<float> wrow(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    dequantize_row(wrow.data(), m, n);
    for (int64_t r = 0; r < T; ++r) {
      double ref = 0, abs_sum = 0, step_bound = 0, true_ref = 0;
      for (int64_t b = 0; b < nb; ++b) {
        const float* xb = x.data() + r * K + b * xb_size;
        float amax = 0;
        for (int64_t k = 0; k < xb_size; ++k) amax = std::max(amax, std::fabs(xb[k]));
        const float inv = amax > 0 ? 127.0f / amax : 0.0f, d = amax / 127.0f;
        double wabs = 0;
        for (int64_t k = 0; k < xb_size; ++k) {
          const double xq = static_cast<double>(std::nearbyint(xb[k] * inv)) * d;
          const double wk = wrow[static_cast<size_t>(b * xb_size + k)];
          ref += xq * wk;
          abs_sum += std::fabs(xq * wk);
          true_ref += static_cast<double>(xb[k]) * wk;
          wabs += std::fabs(wk);
        }
        step_bound += amax / 254.0 * wabs;
      }
      const float got = y[static_cast<size_t>(r * N + n)];
      const double tol = (static_cast<double>(nb) + 16) * std::ldexp(1.0, -22) * abs_sum + 1e-30;
      ASSERT_NEAR(got, ref, tol) << dtype_name(t) << (packed ? " panels" : "") << " K=" << K << " n=" << n << " row " << r;
      ASSERT_NEAR(got, true_ref, step_bound + tol) << dtype_name(t) << (packed ? " panels" : "") << " K=" << K << " n=" << n << " row " << r;
    }
  }
  // A NaN in x reaches the outputs of its row, as on the float path.
  x[static_cast<size_t>(3 * K + 5)] = std::nanf("");
  matmul(y.data(), x.data(), T, m, Precision::Fast);
  for (int64_t n = 0; n < N; ++n)
    EXPECT_TRUE(std::isnan(y[static_cast<size_t>(3 * N + n)])) << dtype_name(t) << (packed ? " panels" : "") << " n=" << n;
  EXPECT_FALSE(std::isnan(y[static_cast<size_t>(2 * N)]));
}

}  // namespace optipfair::quants_test
