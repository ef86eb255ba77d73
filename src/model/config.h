// The architecture hyper-parameters of a Llama-family decoder, whatever file they came from.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/dtype.h"

namespace optipfair {

// The architectures this build runs (config.json's model_type; Gemma 3 is "gemma3_text", and the
// text part of a "gemma3" checkpoint is read as one).
enum class ModelType : uint8_t { Llama, Mistral, Qwen2, Qwen3, Gemma, Gemma2, Gemma3, Phi3 };
// The name config.json uses ("llama", ...), or nullopt for one this build does not run.
std::optional<ModelType> model_type_from_name(std::string_view name);
const char* model_type_name(ModelType type);
// Throws Error naming `name` and the supported list when it is not one of ours.
ModelType model_type_parse(std::string_view name);

// The gate's activation in the GLU MLP: SiLU (Llama, Qwen, Mistral: "silu", also "swish") or GELU
// with the tanh approximation (Gemma: "gelu_pytorch_tanh", GeGLU).
enum class HiddenAct : uint8_t { Silu, GeluTanh };
// Throws Error for an activation this build does not implement.
HiddenAct hidden_act_parse(std::string_view name);
const char* hidden_act_name(HiddenAct act);

enum class RopeScalingType : uint8_t { None, Linear, Llama3, LongRope };
// "none" (also "default"), "linear", "llama3", "longrope" (also Phi-3's older "su"); throws Error otherwise.
RopeScalingType rope_scaling_type_parse(std::string_view name);
const char* rope_scaling_type_name(RopeScalingType type);

struct RopeScaling {
  RopeScalingType type = RopeScalingType::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
  // LongRope (Phi-3): per-frequency divisors for contexts up to the original length and beyond
  // it, and the factor cos and sin are multiplied by (0 = derived from the context lengths).
  std::vector<double> short_factor, long_factor;
  double attention_factor = 0;
};

// Which positions a layer's attention sees: all earlier ones, or the last `sliding_window`.
enum class LayerAttention : uint8_t { Full, Sliding };

struct ModelConfig {
  ModelType model_type = ModelType::Llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t rotary_dim = 0;       // leading dimensions of each head that RoPE rotates (partial_rotary_factor); 0 = all
  int64_t intermediate_size = 0;               // the config's single value (the widest layer)
  std::vector<int64_t> intermediate_sizes;     // true width per layer (after pruning they may differ)
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (Qwen2)
  bool qk_norm = false;         // RMSNorm on q and k per head (Qwen3)
  HiddenAct hidden_act = HiddenAct::Silu;
  int64_t sliding_window = 0;   // attend to at most this many positions (the current one included); 0 = no limit
  // Per layer, when layers differ (Gemma 2/3: sliding and global layers interleaved); empty means
  // every layer is Sliding when sliding_window > 0 (Mistral), else Full.
  std::vector<LayerAttention> layer_types;
  double rope_local_theta = 0;  // RoPE base of Sliding layers, unscaled (Gemma 3); 0 = as the others
  double query_pre_attn_scalar = 0;   // attention scale 1/sqrt(this) (Gemma); 0 = 1/sqrt(head_dim)
  double attn_logit_softcapping = 0;  // scores become cap * tanh(score / cap) (Gemma 2); 0 = none
  double final_logit_softcapping = 0; // the same on the logits (Gemma 2)
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  DType dtype = DType::F32;     // storage type of the weights
  nlohmann::json raw;           // the config.json as read (kept so that saving preserves unknown keys)

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t rope_dim() const { return rotary_dim > 0 ? rotary_dim : head_dim; }
  // Phi-3 stores q, k and v as one qkv_proj and the gate and up projections as one gate_up_proj.
  bool fused_projections() const { return model_type == ModelType::Phi3; }
  bool gemma() const {
    return model_type == ModelType::Gemma || model_type == ModelType::Gemma2 || model_type == ModelType::Gemma3;
  }
  // Gemma's RMSNorms scale by (1 + weight): the stored weights are offsets from 1.
  float norm_offset() const { return gemma() ? 1.0f : 0.0f; }
  // Gemma 2/3 normalise the attention's and the MLP's outputs before adding them to the residual.
  bool post_norms() const { return model_type == ModelType::Gemma2 || model_type == ModelType::Gemma3; }
  // Gemma multiplies the token embeddings by sqrt(hidden_size).
  float embedding_scale() const;
  // Positions layer l attends to at most (0 = all).
  int64_t window_of(int64_t layer) const;
  float attention_scale() const;
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
};

// transformers' name for a layer's norm before the MLP: "post_attention_layernorm" in Llama-style
// blocks and Gemma 1, "pre_feedforward_layernorm" where Gemma 2/3 use that name for the norm of
// the attention's output.
inline const char* hf_pre_mlp_norm_name(const ModelConfig& c) {
  return c.post_norms() ? "pre_feedforward_layernorm" : "post_attention_layernorm";
}

// Upper bounds on a config's sizes: far above any released model, yet low enough that every
// product of them (vocab x hidden, heads x head_dim, layers x widths, times element bytes) fits in
// int64, and that a hostile file is refused before anything is allocated for its sizes.
inline constexpr int64_t kMaxLayers = int64_t{1} << 16;
inline constexpr int64_t kMaxHiddenSize = int64_t{1} << 20;
inline constexpr int64_t kMaxHeads = int64_t{1} << 16;
inline constexpr int64_t kMaxHeadDim = int64_t{1} << 16;
inline constexpr int64_t kMaxVocabSize = (int64_t{1} << 31) - 1;  // token ids are int32
inline constexpr int64_t kMaxIntermediateSize = int64_t{1} << 22;

// model_type values this build runs, as config.json names them.
const std::vector<std::string>& supported_model_types();

// Throws Error when a size is not positive or above its limit, or the sizes disagree with each other.
void config_validate(const ModelConfig& config);

// Parses a Hugging Face config.json (already read as JSON).
ModelConfig config_from_hf_json(const nlohmann::json& j);

// Writes the Hugging Face config.json for `config`, starting from config.raw.
nlohmann::json config_to_hf_json(const ModelConfig& config);

}  // namespace optipfair
