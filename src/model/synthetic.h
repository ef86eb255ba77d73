// Models with random weights in the shapes of real checkpoints, for tests and benchmarks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace optipfair {

// "llama-3.2-1b", "smollm2-135m", "qwen2.5-0.5b", "qwen3-0.6b", "gemma-3-1b", "gemma-2-2b",
// "gemma-2b", "phi-3-mini", and the test sizes "tiny" (llama, untied lm_head), "tiny-qwen2" (q/k/v biases),
// "tiny-qwen3" (q/k norms), "tiny-gemma", "tiny-gemma2" (soft-caps, alternating sliding layers)
// "tiny-gemma3" (q/k norms, sliding and global layers with their own RoPE bases) and "tiny-phi3"
// (fused qkv / gate_up, LongRope, 3/4 of each head rotated).
const std::vector<std::string>& synthetic_presets();

// The config.json the real checkpoint ships (the keys transformers reads), with `num_layers`
// layers when positive. Throws Error naming the presets for an unknown name.
nlohmann::json synthetic_hf_config(const std::string& preset, DType dtype, int64_t num_layers = 0);

// A model whose weights the model owns: matrices and biases about N(0, 0.02^2), norm weights
// about 1. Same preset and seed give the same bytes on any thread count, and a tensor's values
// depend only on its name, so a layer-truncated model is the first layers of the full one.
Model make_synthetic_model(const std::string& preset, DType dtype, uint64_t seed, int64_t num_layers_override = 0);

}  // namespace optipfair
