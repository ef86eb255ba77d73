#include "kernels/elementwise.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <cstdint>

#include "kernels/exp_nonpositive.h"

namespace optipfair {

void rmsnorm(float* out, const float* x, const float* weight_f32, int64_t n, float eps) {
  // Eight partial sums let the compiler vectorise without -ffast-math and keep
  // the rounding error of the sum of squares near that of a pairwise sum.
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += x[i + j] * x[i + j];
  for (int j = 0; i < n; ++i, ++j) s[j] += x[i] * x[i];
  float ss = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  const float scale = n > 0 ? 1.0f / std::sqrt(ss / static_cast<float>(n) + eps) : 0.0f;
  for (int64_t k = 0; k < n; ++k) out[k] = x[k] * scale * weight_f32[k];
}

void rmsnorm_naive(float* out, const float* x, const float* weight_f32, int64_t n, float eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double scale = n > 0 ? 1.0 / std::sqrt(ss / static_cast<double>(n) + eps) : 0.0;
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] * scale * weight_f32[i]);
}

namespace {

// The largest of x[0..n), n >= 1, NaN after x[0] ignored. In sixteen running maxima rather than an
// `omp simd reduction(max)`: clang 14 vectorises a float max reduction only under -ffast-math, so
// it left that loop scalar (13 times slower than GCC's on a 128k-entry row) and warned that the
// pragma failed; an element-wise maximum of sixteen lanes has no reduction, and both compilers
// vectorise it (GCC as fast as its reduction). Only the sign of a zero maximum may differ from a
// sequential scan.
inline float max_of(const float* x, int64_t n) {
  constexpr int kLanes = 16;
  float m[kLanes];
  for (int j = 0; j < kLanes; ++j) m[j] = x[0];
  int64_t i = 1;
  for (; i + kLanes <= n; i += kLanes)
#pragma omp simd
    for (int j = 0; j < kLanes; ++j) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
  for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
  float mx = m[0];
  for (int j = 1; j < kLanes; ++j) mx = m[j] > mx ? m[j] : mx;
  return mx;
}

}  // namespace

// Attention runs one softmax per query and key position (half a billion exponentials for a
// 2k-token window of a 30-layer model): the loops are written to vectorise.
__attribute__((target_clones("avx512f", "avx2", "default"))) void softmax_inplace(float* x, int64_t n) {
  if (n <= 0) return;
  const float mx = max_of(x, n);
  // All -inf (a fully masked row): a uniform distribution would be invented
  // data, NaN would poison later sums; zeros say "nothing to attend to".
  if (std::isinf(mx) && mx < 0) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    x[i] = exp_nonpositive(x[i] - mx);
    sum += x[i];
  }
  // A +inf maximum or a NaN first element makes every difference NaN or -inf, so every exponential
  // 0: the zeros stay, rather than a division by zero.
  if (sum == 0.0) return;
  const float inv = static_cast<float>(1.0 / sum);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float max_value(const float* x, int64_t n) {
  return max_of(x, n);
}

// Scoring a continuation takes one normaliser per token over the whole vocabulary (128k
// exponentials a token for Llama-3), which a scalar std::exp made a large part of perplexity runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) double log_sum_exp_shifted(const float* x, int64_t n,
                                                                                       float shift) {
  constexpr int64_t kBlock = 256;
  double sum = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    float part = 0;
#pragma omp simd reduction(+ : part)
    for (int64_t i = b; i < e; ++i) part += exp_nonpositive(x[i] - shift);
    sum += part;
  }
  return std::log(sum);
}

double log_sum_exp_shifted_naive(const float* x, int64_t n, float shift) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - shift);
  return std::log(sum);
}

void softmax_naive(float* x, int64_t n) {
  if (n <= 0) return;
  double mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  if (std::isinf(mx) && mx < 0) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - mx) / sum);
}

// One exponential per MLP neuron and token: with a scalar std::exp this was 6 % of a forward pass.
// sigmoid(g) from e = exp(-|g|) <= 1: 1 / (1 + e) for g >= 0, e / (1 + e) below, so the
// exponential never overflows and very negative g gives -0 as g / (1 + inf) would.
__attribute__((target_clones("avx512f", "avx2", "default"))) void silu_mul_inplace(float* gate, const float* up,
                                                                                   int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float e = exp_nonpositive(-std::fabs(g));
    const float inv = 1.0f / (1.0f + e);
    const float sigmoid = g < 0.0f ? e * inv : inv;
    gate[i] = g * sigmoid * up[i];
  }
}

void silu_mul_naive(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void gelu_tanh_mul_inplace(float* gate,
                                                                                        const float* up, int64_t n) {
  // (1 + tanh(u)) / 2 is sigmoid(2u), taken as in silu_mul_inplace from e = exp(-|2u|): for
  // negative g, 1 + tanh(u) computed as a sum would lose all digits to cancellation.
  constexpr float kTwoSqrt2OverPi = 2.0f * 0.7978845608028654f;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float u2 = kTwoSqrt2OverPi * (g + 0.044715f * g * g * g);
    const float e = exp_nonpositive(-std::fabs(u2));
    const float inv = 1.0f / (1.0f + e);
    const float sigmoid = u2 < 0.0f ? e * inv : inv;
    gate[i] = g * sigmoid * up[i];
  }
}

void gelu_tanh_mul_naive(float* gate, const float* up, int64_t n) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    gate[i] = static_cast<float>(0.5 * g * (1.0 + std::tanh(k * (g + 0.044715 * g * g * g))) * up[i]);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void softcap_inplace(float* x, int64_t n, float cap) {
  const float inv = 1.0f / cap;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = cap * tanh_via_exp(x[i] * inv);
}

void softcap_naive(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(cap * std::tanh(static_cast<double>(x[i]) / cap));
}

}  // namespace optipfair
