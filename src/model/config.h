// The architecture hyper-parameters of a Llama-family decoder, whatever file they came from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/dtype.h"

namespace optipfair {

struct RopeScaling {
  std::string type = "none";  // "none", "linear", "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type = "llama";  // llama, mistral, qwen2, qwen3
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
  std::string hidden_act = "silu";
  int64_t sliding_window = 0;   // Mistral: attend to at most this many past positions; 0 = no limit
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  DType dtype = DType::F32;     // storage type of the weights
  nlohmann::json raw;           // the config.json as read (kept so that saving preserves unknown keys)

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
};

// model_type values this build runs.
const std::vector<std::string>& supported_model_types();

// Throws Error naming the type and the supported list when model_type is not supported,
// and when the activation is not a gated SiLU (the GLU MLP everything here assumes).
void config_validate(const ModelConfig& config);

// Parses a Hugging Face config.json (already read as JSON).
ModelConfig config_from_hf_json(const nlohmann::json& j);

// Writes the Hugging Face config.json for `config`, starting from config.raw.
nlohmann::json config_to_hf_json(const ModelConfig& config);

}  // namespace optipfair
