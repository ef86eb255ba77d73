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

// The largest x[i] (n >= 1; NaN entries are skipped unless all are NaN).
float max_value(const float* x, int64_t n);
// log(sum_i exp(x[i] - shift)), with shift >= every x[i] (the row's max_value): the normaliser of a
// log-softmax over a vocabulary. Vectorised float exponentials summed in double per 256 entries.
double log_sum_exp_shifted(const float* x, int64_t n, float shift);
double log_sum_exp_shifted_naive(const float* x, int64_t n, float shift);

// gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
void silu_mul_inplace(float* gate, const float* up, int64_t n);
void silu_mul_naive(float* gate, const float* up, int64_t n);  // in double: the oracle

// gate[i] = gelu(gate[i]) * up[i] with the tanh approximation (PyTorch's gelu(approximate="tanh"),
// Gemma's GeGLU): gelu(g) = g / 2 * (1 + tanh(sqrt(2 / pi) * (g + 0.044715 g^3))).
void gelu_tanh_mul_inplace(float* gate, const float* up, int64_t n);
void gelu_tanh_mul_naive(float* gate, const float* up, int64_t n);  // in double: the oracle

// x[i] = cap * tanh(x[i] / cap) (Gemma 2's soft-capping of logits and attention scores), cap > 0.
void softcap_inplace(float* x, int64_t n, float cap);
void softcap_naive(float* x, int64_t n, float cap);

}  // namespace optipfair
