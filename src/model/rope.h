// Rotary position embeddings in Hugging Face's rotate-half layout: dimension j pairs with j + d/2.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace optipfair {

// Inverse frequencies theta^(-2j/d) for j < d/2 (d: the rotated dimensions of a head), with the
// config's rope_scaling applied (Llama 3.1's smooth "llama3" scaling, linear, or LongRope's short
// factors). Computed in float32 as transformers does.
std::vector<float> rope_inv_freq(const ModelConfig& config);
std::vector<float> rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& scaling);
// The frequencies of sliding-window layers: Gemma 3 rotates them with rope_local_theta, unscaled;
// every other model as its other layers.
std::vector<float> rope_inv_freq_sliding(const ModelConfig& config);
// The frequencies a forward pass reaching `positions` positions uses: LongRope switches to its long
// factors beyond the original context, as transformers does per call.
std::vector<float> rope_inv_freq_for(const ModelConfig& config, int64_t positions);
// What cos and sin are multiplied by (LongRope's attention factor; 1 otherwise).
float rope_attention_factor(const ModelConfig& config);

// Rotates the first 2 * inv_freq.size() values of one head vector at position pos in place (the
// plain reference version); the rest of the head passes through.
void rope_apply(float* x, int64_t pos, const std::vector<float>& inv_freq);

// scale * cos and sin of pos * inv_freq[j]: the rotation every head of every layer applies at
// that position, computed once per position by the forward pass instead of once per head and layer.
void rope_angles(int64_t pos, const std::vector<float>& inv_freq, float* cos_out, float* sin_out, float scale = 1.0f);

// Rotates the first `rotated` values of n_heads consecutive head vectors of width d in place with
// angles from rope_angles; gives exactly what rope_apply gives for each head.
void rope_rotate(float* x, int64_t n_heads, int64_t d, int64_t rotated, const float* cos, const float* sin);

}  // namespace optipfair
