// Models with random weights in the shapes of real checkpoints, for tests and benchmarks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace optipfair {

// "llama-3.2-1b", "smollm2-135m", "qwen2.5-0.5b", "qwen3-0.6b", "gemma-3-1b", "gemma-2-2b",
// "gemma-2b", "phi-3-mini", and the test sizes "tiny" (llama, untied lm_head), "tiny-k" (llama, 8 layers,
// every width a multiple of 256 so that each K-quant type applies), "tiny-qwen2" (q/k/v biases),
// "tiny-qwen3" (q/k norms), "tiny-gemma", "tiny-gemma2" (soft-caps, alternating sliding layers)
// "tiny-gemma3" (q/k norms, sliding and global layers with their own RoPE bases) and "tiny-phi3"
// (fused qkv / gate_up, LongRope, 3/4 of each head rotated).
const std::vector<std::string>& synthetic_presets();

// The config.json the real checkpoint ships (the keys transformers reads), with `num_layers`
// layers when positive. Throws Error naming the presets for an unknown name.
nlohmann::json synthetic_hf_config(const std::string& preset, DType dtype, int64_t num_layers = 0);

// How a quantised synthetic model mixes types, as llama.cpp's quantiser does for a file type.
enum class QuantMixture : uint8_t {
  Uniform,  // every matrix in the one type (norms and biases float32)
  Medium,   // Q4_K_M / Q5_K_M: the LM head (or tied embeddings) and attn_v / ffn_down of a third
            // of the layers (llama.cpp's use_more_bits) in Q6_K
};

// The weights of a synthetic model: a stored type and, for block types, the mixture.
struct SyntheticWeights {
  DType dtype = DType::BF16;
  QuantMixture mixture = QuantMixture::Uniform;
};
// "f32", "f16", "bf16", the block types ("q8_0", "q4_0", ..., "q6_k") and the mixtures "q4_k_m",
// "q5_k_m", any case. Throws Error otherwise.
SyntheticWeights synthetic_weights_from_name(const std::string& name);

// A model whose weights the model owns: matrices and biases about N(0, 0.02^2), norm weights
// about 1. Same preset and seed give the same bytes on any thread count, and a tensor's values
// depend only on its name, so a layer-truncated model is the first layers of the full one.
Model make_synthetic_model(const std::string& preset, DType dtype, uint64_t seed, int64_t num_layers_override = 0);
// With block types the values are drawn as float32 and quantised row by row (kernels/quantize.h);
// a matrix whose width is not a whole number of the type's blocks takes llama.cpp's fallback type
// (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0; a legacy type -> F16).
Model make_synthetic_model(const std::string& preset, SyntheticWeights weights, uint64_t seed,
                           int64_t num_layers_override = 0);

}  // namespace optipfair
