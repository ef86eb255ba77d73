#include "kernels/elementwise.h"

#include <cmath>

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

void softmax_inplace(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  // All -inf (a fully masked row): a uniform distribution would be invented
  // data, NaN would poison later sums; zeros say "nothing to attend to".
  if (std::isinf(mx) && mx < 0) {
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
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

void silu_mul_inplace(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace optipfair
