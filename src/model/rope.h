// Rotary position embeddings in Hugging Face's rotate-half layout: dimension j pairs with j + d/2.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace optipfair {

// Inverse frequencies theta^(-2j/d) for j < d/2, with the config's rope_scaling applied
// (Llama 3.1's smooth "llama3" scaling, or linear). Computed in float32 as transformers does.
std::vector<float> rope_inv_freq(const ModelConfig& config);

// Rotates one head vector x[0..d) at position pos in place (the plain reference version).
void rope_apply(float* x, int64_t d, int64_t pos, const std::vector<float>& inv_freq);

// cos and sin of pos * inv_freq[j], j < d/2: the rotation every head of every layer applies at
// that position, computed once per position by the forward pass instead of once per head and layer.
void rope_angles(int64_t pos, const std::vector<float>& inv_freq, float* cos_out, float* sin_out);

// Rotates n_heads consecutive head vectors of width d in place with angles from rope_angles;
// gives exactly what rope_apply gives for each head.
void rope_rotate(float* x, int64_t n_heads, int64_t d, const float* cos, const float* sin);

}  // namespace optipfair
