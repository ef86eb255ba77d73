// Rotary position embeddings in Hugging Face's rotate-half layout: dimension j pairs with j + d/2.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace optipfair {

// Inverse frequencies theta^(-2j/d) for j < d/2, with the config's rope_scaling applied
// (Llama 3.1's smooth "llama3" scaling, or linear). Computed in float32 as transformers does.
std::vector<float> rope_inv_freq(const ModelConfig& config);

// Rotates one head vector x[0..d) at position pos in place.
void rope_apply(float* x, int64_t d, int64_t pos, const std::vector<float>& inv_freq);

}  // namespace optipfair
