// Matrix products against stored weights: the hot path of every forward pass.
//
//   y[t, n] = sum_k x[t, k] * W[n, k]      for t < T, n < N
//
// x is float32 [T x K] (row stride K), W holds N rows of K elements in its
// stored type (F32, F16, BF16 or Q8_0), row n starting at w + n * w_row_bytes,
// y is float32 [T x N] (row stride N). Work is split across OpenMP threads.
// matmul_naive is the plain reference every fast path is tested against.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/dtype.h"

namespace optipfair {

struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0;         // N: output features
  int64_t cols = 0;         // K: input features
  size_t row_bytes = 0;     // distance between consecutive rows
};

void matmul(float* y, const float* x, int64_t T, const WeightMatrix& w);
void matmul_naive(float* y, const float* x, int64_t T, const WeightMatrix& w);

// Widens row `row` of w into dst[0..cols) as float32 (embedding look-ups, scores).
void dequantize_row(float* dst, const WeightMatrix& w, int64_t row);

}  // namespace optipfair
