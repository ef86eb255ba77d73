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

// The architectures this build runs (config.json's model_type).
enum class ModelType : uint8_t { Llama, Mistral, Qwen2, Qwen3 };
// The name config.json uses ("llama", ...), or nullopt for one this build does not run.
std::optional<ModelType> model_type_from_name(std::string_view name);
const char* model_type_name(ModelType type);
// Throws Error naming `name` and the supported list when it is not one of ours.
ModelType model_type_parse(std::string_view name);

// The MLP's activation: every supported family uses a gated SiLU ("silu", also spelled "swish").
enum class HiddenAct : uint8_t { Silu };
// Throws Error for an activation this build does not implement.
HiddenAct hidden_act_parse(std::string_view name);
const char* hidden_act_name(HiddenAct act);

enum class RopeScalingType : uint8_t { None, Linear, Llama3 };
// "none" (also "default"), "linear", "llama3"; throws Error otherwise.
RopeScalingType rope_scaling_type_parse(std::string_view name);
const char* rope_scaling_type_name(RopeScalingType type);

struct RopeScaling {
  RopeScalingType type = RopeScalingType::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  ModelType model_type = ModelType::Llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
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
  int64_t sliding_window = 0;   // Mistral: attend to at most this many past positions; 0 = no limit
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  DType dtype = DType::F32;     // storage type of the weights
  nlohmann::json raw;           // the config.json as read (kept so that saving preserves unknown keys)

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
};

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
