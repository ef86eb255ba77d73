// What the matrix-product tests share (test_matmul.cpp, test_bf16_panels.cpp): test matrices with
// their exact values, inputs, error bounds and the instruction sets to try.
#pragma once
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul.h"

namespace optipfair::matmul_test {

// Bytes after each row that matmul must never read: a strided view, as a
// row-sliced (pruned) tensor is. They hold 0xff (NaN in every float format,
// a huge Q8_0 scale) so any over-read shows up in the results.
constexpr size_t kRowPad = 6;

struct TestMatrix {
  std::vector<uint8_t> bytes;
  std::vector<double> widened;  // the same weights as doubles, for error bounds
  std::vector<uint16_t> panels;  // BF16 only, after attach_panels
  WeightMatrix m;
};

inline TestMatrix make_matrix(DType dt, int64_t N, int64_t K, uint32_t seed) {
  TestMatrix tm;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> q(-127, 127);
  const size_t row = dtype_bytes(dt, K) + kRowPad;
  tm.bytes.assign(row * N + 1, 0xff);
  tm.widened.resize(N * K);
  for (int64_t n = 0; n < N; ++n) {
    uint8_t* r = tm.bytes.data() + row * n;
    for (int64_t k = 0; k < K; ++k) {
      const float v = normal(rng);
      double& out = tm.widened[n * K + k];
      if (dt == DType::F32) {
        std::memcpy(r + 4 * k, &v, 4);
        out = v;
      } else if (dt == DType::F16) {
        uint16_t h = f32_to_f16(v);
        std::memcpy(r + 2 * k, &h, 2);
        out = f16_to_f32(h);
      } else if (dt == DType::BF16) {
        uint16_t h = f32_to_bf16(v);
        std::memcpy(r + 2 * k, &h, 2);
        out = bf16_to_f32(h);
      }
    }
    if (dt == DType::Q8_0) {
      for (int64_t b = 0; b < K / kQ8BlockSize; ++b) {
        uint8_t* blk = r + b * sizeof(BlockQ8_0);
        const uint16_t s = f32_to_f16(0.01f + 0.05f * std::fabs(normal(rng)));
        std::memcpy(blk, &s, 2);
        for (int i = 0; i < kQ8BlockSize; ++i) {
          const int8_t v = static_cast<int8_t>(q(rng));
          std::memcpy(blk + 2 + i, &v, 1);
          tm.widened[n * K + b * kQ8BlockSize + i] = static_cast<double>(f16_to_f32(s)) * v;
        }
      }
    }
  }
  tm.m = WeightMatrix{tm.bytes.data(), dt, N, K, row};
  return tm;
}

inline std::vector<float> make_x(int64_t T, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(T * K);
  for (float& v : x) v = normal(rng);
  return x;
}

// sum_k |x[t,k] * w[n,k]|: the scale every rounding error of y[t,n] is relative to.
inline std::vector<double> abs_sums(const std::vector<float>& x, const TestMatrix& tm, int64_t T) {
  const int64_t N = tm.m.rows, K = tm.m.cols;
  std::vector<double> s(T * N, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) s[t * N + n] += std::fabs(x[t * K + k] * tm.widened[n * K + k]);
  return s;
}

inline std::vector<MatmulIsa> supported_isas() {
  std::vector<MatmulIsa> out;
  for (MatmulIsa i : {MatmulIsa::Scalar, MatmulIsa::Avx2, MatmulIsa::Avx512, MatmulIsa::Avx512Bf16})
    if (i <= matmul_isa_best()) out.push_back(i);
  return out;
}

// Restores the instruction-set choice whatever a test does.
struct MatmulSettingsGuard {
  MatmulIsa isa = matmul_isa();
  ~MatmulSettingsGuard() { matmul_set_isa(isa); }
};

inline Precision precision_of(bool exact) { return exact ? Precision::Exact : Precision::Fast; }

// Exact mode: the weights are widened without error (bf16, f16 and
// q8 * f16-scale all fit float32), so the only error is float32 accumulation.
// The kernels sum K terms in at least 8 interleaved lanes, then a tree of
// depth <= 4, plus one addition per K block; recursive summation then has
// worst-case error below (K/8 + 8) * 2^-24 * sum|x w| (Higham, Thm 4.1 with
// m = K/8 + 8 terms per chain), which also covers rounding the oracle's
// double result to float. For K = 1000 that is 7.9e-6 relative to sum|x w|;
// a wrong element, row or block errs by O(1) relative to it.
inline double exact_tol(int64_t K) { return (static_cast<double>(K) / 8.0 + 8.0) * std::ldexp(1.0, -24); }
// bf16 activations: rounding x to bf16 (8 significant bits, nearest even)
// moves each x_k by at most 2^-9 relative; 2^-8 adds margin for the final
// float32 rounding of the products' sum.
constexpr double kBf16Tol = 1.0 / 256.0;

// Packs a BF16 test matrix into panels and points its view at them. The buffer starts as 0xffff
// (NaN), so a value the packing forgot to write shows up in the results.
inline void attach_panels(TestMatrix& tm) {
  tm.panels.assign(bf16_panels_size(tm.m.rows, tm.m.cols), 0xffff);
  bf16_panels_pack(tm.panels.data(), tm.m);
  tm.m.panels = tm.panels.data();
}
// From panels each output is one chain of K additions (vdpbf16ps adds a pair's two products one
// after the other): recursive summation's bound (K + 8) * 2^-24 of sum|x w| (Higham, Thm 4.1).
inline double panels_tol(int64_t K) { return (static_cast<double>(K) + 8.0) * std::ldexp(1.0, -24); }

}  // namespace optipfair::matmul_test
