// Element-wise kernels of the Llama forward pass, in float32.
// The *_naive versions accumulate in double and are the test oracles.
#pragma once
#include <cstdint>

namespace optipfair {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]; out may alias x.
void rmsnorm(float* out, const float* x, const float* weight_f32, int64_t n, float eps);
void rmsnorm_naive(float* out, const float* x, const float* weight_f32, int64_t n, float eps);

// x = exp(x - max) / sum(exp(x - max)); -inf entries become 0, n == 0 does nothing.
void softmax_inplace(float* x, int64_t n);
void softmax_naive(float* x, int64_t n);

// gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
void silu_mul_inplace(float* gate, const float* up, int64_t n);

}  // namespace optipfair
