#include "model/config.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "util/json_number.h"

namespace optipfair {

using nlohmann::json;

namespace {

constexpr ModelType kModelTypes[] = {ModelType::Llama, ModelType::Mistral, ModelType::Qwen2, ModelType::Qwen3,
                                     ModelType::Gemma, ModelType::Gemma2, ModelType::Gemma3, ModelType::Phi3};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const char* model_type_name(ModelType type) {
  switch (type) {
    case ModelType::Llama: return "llama";
    case ModelType::Mistral: return "mistral";
    case ModelType::Qwen2: return "qwen2";
    case ModelType::Qwen3: return "qwen3";
    case ModelType::Gemma: return "gemma";
    case ModelType::Gemma2: return "gemma2";
    case ModelType::Gemma3: return "gemma3_text";
    case ModelType::Phi3: return "phi3";
  }
  return "?";
}

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    for (ModelType t : kModelTypes) out.push_back(model_type_name(t));
    return out;
  }();
  return types;
}

std::optional<ModelType> model_type_from_name(std::string_view name) {
  for (ModelType t : kModelTypes)
    if (name == model_type_name(t)) return t;
  return std::nullopt;
}

ModelType model_type_parse(std::string_view name) {
  if (auto t = model_type_from_name(name)) return *t;
  throw Error("architecture '" + std::string(name) + "' is not supported (supported: " + join(supported_model_types()) +
              ")");
}

HiddenAct hidden_act_parse(std::string_view name) {
  if (name == "silu" || name == "swish") return HiddenAct::Silu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_tanh") return HiddenAct::GeluTanh;
  throw Error("activation '" + std::string(name) +
              "' is not supported: optipfair runs gated MLPs with silu or gelu_pytorch_tanh");
}

const char* hidden_act_name(HiddenAct act) {
  switch (act) {
    case HiddenAct::Silu: return "silu";
    case HiddenAct::GeluTanh: return "gelu_pytorch_tanh";
  }
  return "?";
}

float ModelConfig::embedding_scale() const {
  return gemma() ? static_cast<float>(std::sqrt(static_cast<double>(hidden_size))) : 1.0f;
}

int64_t ModelConfig::window_of(int64_t layer) const {
  if (layer_types.empty()) return sliding_window;
  return layer_types[static_cast<size_t>(layer)] == LayerAttention::Sliding ? sliding_window : 0;
}

float ModelConfig::attention_scale() const {
  const double d = query_pre_attn_scalar > 0 ? query_pre_attn_scalar : static_cast<double>(head_dim);
  return static_cast<float>(1.0 / std::sqrt(d));
}

RopeScalingType rope_scaling_type_parse(std::string_view name) {
  if (name == "none" || name == "default") return RopeScalingType::None;
  if (name == "linear") return RopeScalingType::Linear;
  if (name == "llama3") return RopeScalingType::Llama3;
  if (name == "longrope" || name == "su") return RopeScalingType::LongRope;
  throw Error("rope_scaling type '" + std::string(name) + "' is not supported (supported: llama3, linear, longrope)");
}

const char* rope_scaling_type_name(RopeScalingType type) {
  switch (type) {
    case RopeScalingType::None: return "none";
    case RopeScalingType::Linear: return "linear";
    case RopeScalingType::Llama3: return "llama3";
    case RopeScalingType::LongRope: return "longrope";
  }
  return "?";
}

namespace {

template <typename T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(std::string("config.json: key '") + key + "' has the wrong type");
  }
}

// A value's JSON text for an error message, cut short: the value may be a whole hostile document.
std::string shown(const json& v) {
  std::string text = v.dump();
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

// A JSON number as an int64 (whole floats such as 4096.0 included); anything that does not fit is
// refused rather than cast.
int64_t as_int(const json& v, const char* key) {
  if (auto i = json_exact_int64(v)) return *i;
  throw Error(std::string("config.json: key '") + key + "' holds " + shown(v) + " where an integer belongs");
}

int64_t int_or(const json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return as_int(*it, key);
}

int64_t require_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    throw Error(std::string("config.json has no integer '") + key + "'");
  return as_int(*it, key);
}

std::vector<int64_t> int_array(const json& v, const char* key) {
  std::vector<int64_t> out;
  for (const json& x : v) out.push_back(as_int(x, key));
  return out;
}

void check_limit(int64_t value, int64_t limit, const char* key) {
  if (value > limit)
    throw Error("config has " + std::string(key) + " " + std::to_string(value) + ", more than the " +
                std::to_string(limit) + " optipfair supports");
}

// Before anything is sized by the config: one hostile number must not become terabytes.
void check_limits(const ModelConfig& c) {
  check_limit(c.num_hidden_layers, kMaxLayers, "num_hidden_layers");
  check_limit(c.hidden_size, kMaxHiddenSize, "hidden_size");
  check_limit(c.num_attention_heads, kMaxHeads, "num_attention_heads");
  check_limit(c.num_key_value_heads, kMaxHeads, "num_key_value_heads");
  check_limit(c.head_dim, kMaxHeadDim, "head_dim");
  check_limit(c.vocab_size, kMaxVocabSize, "vocab_size");
  check_limit(c.intermediate_size, kMaxIntermediateSize, "intermediate_size");
  for (int64_t w : c.intermediate_sizes) check_limit(w, kMaxIntermediateSize, "an MLP layer of width");
}

// Values that would not allocate anything but would silently turn every activation into NaN or
// infinity (a zero RoPE base, equal llama3 frequency factors dividing by zero, ...).
void check_numeric_parameters(const ModelConfig& c) {
  auto positive = [](double v, const char* key) {
    if (!std::isfinite(v) || v <= 0) throw Error("config has " + std::string(key) + " " + std::to_string(v) + "; it must be a positive number");
  };
  positive(c.rope_theta, "rope_theta");
  if (!std::isfinite(c.rms_norm_eps) || c.rms_norm_eps < 0)
    throw Error("config has rms_norm_eps " + std::to_string(c.rms_norm_eps) + "; it must be zero or positive");
  if (c.max_position_embeddings <= 0)
    throw Error("config has max_position_embeddings " + std::to_string(c.max_position_embeddings) + "; it must be positive");
  if (c.sliding_window < 0) throw Error("config has sliding_window " + std::to_string(c.sliding_window) + "; it must be 0 or more");
  auto non_negative = [](double v, const char* key) {
    if (!std::isfinite(v) || v < 0) throw Error("config has " + std::string(key) + " " + std::to_string(v) + "; it must be 0 or more");
  };
  non_negative(c.rope_local_theta, "rope_local_base_freq");
  non_negative(c.query_pre_attn_scalar, "query_pre_attn_scalar");
  non_negative(c.attn_logit_softcapping, "attn_logit_softcapping");
  non_negative(c.final_logit_softcapping, "final_logit_softcapping");
  const RopeScaling& r = c.rope_scaling;
  if (r.type == RopeScalingType::None) return;
  if (r.type == RopeScalingType::LongRope) {
    const auto half = static_cast<size_t>(c.rope_dim() / 2);
    if (r.short_factor.size() != half || r.long_factor.size() != half)
      throw Error("config has rope_scaling short_factor / long_factor of " + std::to_string(r.short_factor.size()) +
                  " / " + std::to_string(r.long_factor.size()) + " values; rotating " + std::to_string(c.rope_dim()) +
                  " dimensions needs " + std::to_string(half) + " each");
    for (const auto* list : {&r.short_factor, &r.long_factor})
      for (double f : *list) positive(f, "a rope_scaling long/short factor");
    if (r.original_max_position_embeddings <= 0)
      throw Error("config has original_max_position_embeddings " + std::to_string(r.original_max_position_embeddings) +
                  "; it must be positive");
    if (!std::isfinite(r.attention_factor) || r.attention_factor < 0)
      throw Error("config has rope_scaling.attention_factor " + std::to_string(r.attention_factor));
    return;
  }
  positive(r.factor, "rope_scaling.factor");
  if (r.type != RopeScalingType::Llama3) return;
  positive(r.low_freq_factor, "rope_scaling.low_freq_factor");
  positive(r.high_freq_factor, "rope_scaling.high_freq_factor");
  if (r.high_freq_factor <= r.low_freq_factor)  // as transformers requires: the blend divides by their difference
    throw Error("config has rope_scaling.high_freq_factor " + std::to_string(r.high_freq_factor) +
                " not above low_freq_factor " + std::to_string(r.low_freq_factor));
  if (r.original_max_position_embeddings <= 0)
    throw Error("config has rope_scaling.original_max_position_embeddings " +
                std::to_string(r.original_max_position_embeddings) + "; it must be positive");
}

RopeScaling parse_rope_scaling(const json& j) {
  RopeScaling r;
  if (j.is_null()) return r;
  if (!j.is_object()) throw Error("config.json: rope_scaling must be an object or null");
  r.type = rope_scaling_type_parse(get_or<std::string>(j, "rope_type", get_or<std::string>(j, "type", "default")));
  if (r.type == RopeScalingType::None) return r;
  r.factor = get_or<double>(j, "factor", 1.0);
  r.low_freq_factor = get_or<double>(j, "low_freq_factor", 1.0);
  r.high_freq_factor = get_or<double>(j, "high_freq_factor", 4.0);
  r.original_max_position_embeddings = int_or(j, "original_max_position_embeddings", 8192);
  if (r.type == RopeScalingType::LongRope) {
    for (auto [key, list] : {std::pair{"short_factor", &r.short_factor}, std::pair{"long_factor", &r.long_factor}}) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_array()) throw Error(std::string("config.json: longrope rope_scaling has no list '") + key + "'");
      if (it->size() > static_cast<size_t>(kMaxHeadDim)) throw Error(std::string("config.json: rope_scaling.") + key + " is too long");
      for (const json& v : *it) {
        if (!v.is_number()) throw Error(std::string("config.json: rope_scaling.") + key + " holds " + shown(v));
        list->push_back(v.get<double>());
      }
    }
    r.attention_factor = get_or<double>(j, "attention_factor", 0.0);
  }
  return r;
}

}  // namespace

void config_validate(const ModelConfig& c) {
  if (c.hidden_size <= 0 || c.num_hidden_layers <= 0 || c.num_attention_heads <= 0 ||
      c.num_key_value_heads <= 0 || c.head_dim <= 0 || c.vocab_size <= 0)
    throw Error("config has a non-positive size (hidden, layers, heads, head_dim or vocab)");
  check_limits(c);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw Error("num_attention_heads (" + std::to_string(c.num_attention_heads) +
                ") is not a multiple of num_key_value_heads (" + std::to_string(c.num_key_value_heads) + ")");
  if (c.head_dim % 2 != 0) throw Error("head_dim must be even for rotary embeddings");
  if (c.rotary_dim < 0 || c.rotary_dim > c.head_dim || c.rotary_dim % 2 != 0)
    throw Error("config rotates " + std::to_string(c.rotary_dim) + " dimensions of heads of " +
                std::to_string(c.head_dim) + " (partial_rotary_factor must give an even number up to head_dim)");
  if (static_cast<int64_t>(c.intermediate_sizes.size()) != c.num_hidden_layers)
    throw Error("config has " + std::to_string(c.intermediate_sizes.size()) + " MLP widths for " +
                std::to_string(c.num_hidden_layers) + " layers");
  for (int64_t w : c.intermediate_sizes)
    if (w <= 0) throw Error("config has an MLP layer of width " + std::to_string(w));
  if (!c.layer_types.empty() && static_cast<int64_t>(c.layer_types.size()) != c.num_hidden_layers)
    throw Error("config has " + std::to_string(c.layer_types.size()) + " layer_types for " +
                std::to_string(c.num_hidden_layers) + " layers");
  const bool any_sliding = std::find(c.layer_types.begin(), c.layer_types.end(), LayerAttention::Sliding) != c.layer_types.end();
  if (any_sliding && c.sliding_window <= 0)
    throw Error("config has sliding-attention layers but no positive sliding_window");
  check_numeric_parameters(c);
}

namespace {

// A "gemma3" (image-text) config keeps the language model's settings in text_config, with the
// Gemma3TextConfig defaults for what it leaves out; read as the text model it describes.
json gemma3_text_config(const json& j) {
  auto it = j.find("text_config");
  json text = it != j.end() && it->is_object() ? *it : json::object();
  if (it != j.end() && !it->is_object() && !it->is_null()) throw Error("config.json: text_config must be an object");
  text["model_type"] = "gemma3_text";
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "tie_word_embeddings"})
    if (!text.contains(key) && j.contains(key)) text[key] = j[key];
  return text;
}

void add_missing(json& j, const json& defaults) {
  for (auto& [key, value] : defaults.items())
    if (!j.contains(key)) j[key] = value;
}

// What transformers' Gemma3TextConfig assumes for keys a config leaves out.
const json& gemma3_text_defaults() {
  static const json d = {{"vocab_size", 262208}, {"hidden_size", 2304}, {"intermediate_size", 9216},
                         {"num_hidden_layers", 26}, {"num_attention_heads", 8}, {"num_key_value_heads", 4},
                         {"head_dim", 256}, {"max_position_embeddings", 131072}, {"rms_norm_eps", 1e-6},
                         {"rope_theta", 1000000.0}, {"rope_local_base_freq", 10000.0},
                         {"query_pre_attn_scalar", 256}, {"sliding_window", 4096}};
  return d;
}

LayerAttention layer_attention_parse(const json& v) {
  if (v == "sliding_attention") return LayerAttention::Sliding;
  if (v == "full_attention") return LayerAttention::Full;
  throw Error("config.json: layer_types holds " + shown(v) + " (expected sliding_attention or full_attention)");
}

// Sliding-window and global layers: the config's layer_types, else the family's fixed pattern
// (Gemma 2: even layers slide; Gemma 3: all but every sliding_window_pattern-th).
std::vector<LayerAttention> gemma_layer_types(const json& j, ModelType type, int64_t layers) {
  std::vector<LayerAttention> out;
  if (auto it = j.find("layer_types"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw Error("config.json: layer_types must be a list");
    for (const json& v : *it) out.push_back(layer_attention_parse(v));
    return out;
  }
  const int64_t period = type == ModelType::Gemma2 ? 2 : int_or(j, "sliding_window_pattern", 6);
  if (period <= 0) throw Error("config.json: sliding_window_pattern must be positive");
  for (int64_t l = 0; l < layers; ++l)
    out.push_back(type == ModelType::Gemma2 ? (l % 2 == 0 ? LayerAttention::Sliding : LayerAttention::Full)
                                            : ((l + 1) % period != 0 ? LayerAttention::Sliding : LayerAttention::Full));
  return out;
}

// RoPE of global layers (rope_theta, rope_scaling) and of sliding layers (rope_local_base_freq,
// never scaled); transformers 5 nests both in rope_parameters by layer type.
void parse_gemma_rope(const json& j, ModelConfig& c) {
  c.rope_local_theta = c.model_type == ModelType::Gemma3 ? get_or<double>(j, "rope_local_base_freq", 10000.0) : 0.0;
  auto it = j.find("rope_parameters");
  if (it == j.end() || !it->is_object() || !it->contains("full_attention")) return;
  const json& full = (*it)["full_attention"];
  if (!full.is_object()) throw Error("config.json: rope_parameters.full_attention must be an object");
  c.rope_theta = get_or<double>(full, "rope_theta", c.rope_theta);
  c.rope_scaling = parse_rope_scaling(full);
  if (auto s = it->find("sliding_attention"); s != it->end() && s->is_object()) {
    if (parse_rope_scaling(*s).type != RopeScalingType::None)
      throw Error("config.json: scaled RoPE on sliding-window layers is not supported");
    c.rope_local_theta = get_or<double>(*s, "rope_theta", c.rope_local_theta);
  }
}

void parse_gemma(const json& j, ModelConfig& c) {
  // transformers' Gemma classes read hidden_activation; a config without one gets the tanh GELU.
  c.hidden_act = hidden_act_parse(get_or<std::string>(j, "hidden_activation", "gelu_pytorch_tanh"));
  c.tie_word_embeddings = get_or<bool>(j, "tie_word_embeddings", true);
  c.qk_norm = c.model_type == ModelType::Gemma3;
  if (c.model_type == ModelType::Gemma) return;
  c.query_pre_attn_scalar = get_or<double>(j, "query_pre_attn_scalar", 256.0);
  c.sliding_window = int_or(j, "sliding_window", 4096);
  c.layer_types = gemma_layer_types(j, c.model_type, c.num_hidden_layers);
  const bool g2 = c.model_type == ModelType::Gemma2;
  c.attn_logit_softcapping = get_or<double>(j, "attn_logit_softcapping", g2 ? 50.0 : 0.0);
  c.final_logit_softcapping = get_or<double>(j, "final_logit_softcapping", g2 ? 30.0 : 0.0);
  parse_gemma_rope(j, c);
}

// Phi-3: a sliding window when the config has one (transformers applies it; llama.cpp currently
// does not), a partly rotated head (Phi-4-mini), LongRope against original_max_position_embeddings.
void parse_phi3(const json& j, ModelConfig& c) {
  c.sliding_window = int_or(j, "sliding_window", 0);
  const double partial = get_or<double>(j, "partial_rotary_factor", 1.0);
  if (!(partial > 0 && partial <= 1)) throw Error("config has partial_rotary_factor " + std::to_string(partial));
  if (partial < 1) c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * partial);
  RopeScaling& r = c.rope_scaling;
  if (r.type != RopeScalingType::LongRope) return;
  // As transformers: the original length at the top level wins, and the attention factor follows
  // from how far max_position_embeddings reaches beyond it.
  r.original_max_position_embeddings = int_or(j, "original_max_position_embeddings", r.original_max_position_embeddings);
  if (r.attention_factor == 0 && r.original_max_position_embeddings > 1) {
    const double factor = static_cast<double>(c.max_position_embeddings) / static_cast<double>(r.original_max_position_embeddings);
    r.attention_factor =
        factor <= 1 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(static_cast<double>(r.original_max_position_embeddings)));
  }
}

}  // namespace

ModelConfig config_from_hf_json(const json& j_in) {
  if (!j_in.is_object()) throw Error("config.json is not a JSON object");
  json j = j_in;
  if (get_or<std::string>(j, "model_type", "") == "gemma3") j = gemma3_text_config(j);
  if (get_or<std::string>(j, "model_type", "") == "gemma3_text") add_missing(j, gemma3_text_defaults());
  ModelConfig c;
  c.raw = j;
  const std::string model_type = get_or<std::string>(j, "model_type", "");
  if (model_type.empty()) throw Error("config.json has no model_type");
  c.model_type = model_type_parse(model_type);
  if (get_or<bool>(j, "mlp_bias", false)) throw Error("MLP biases (mlp_bias: true) are not supported");

  c.hidden_size = require_int(j, "hidden_size");
  c.num_hidden_layers = require_int(j, "num_hidden_layers");
  c.num_attention_heads = require_int(j, "num_attention_heads");
  c.num_key_value_heads = int_or(j, "num_key_value_heads", c.num_attention_heads);
  c.head_dim = int_or(j, "head_dim", c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0);
  c.vocab_size = require_int(j, "vocab_size");
  c.intermediate_size = require_int(j, "intermediate_size");
  c.max_position_embeddings = int_or(j, "max_position_embeddings", 2048);
  c.rms_norm_eps = get_or<double>(j, "rms_norm_eps", 1e-6);
  if (!c.gemma()) c.hidden_act = hidden_act_parse(get_or<std::string>(j, "hidden_act", "silu"));
  c.tie_word_embeddings = get_or<bool>(j, "tie_word_embeddings", false);
  c.attention_bias = c.model_type == ModelType::Qwen2 ? true : get_or<bool>(j, "attention_bias", false);
  c.qk_norm = c.model_type == ModelType::Qwen3;
  if (c.model_type == ModelType::Mistral) c.sliding_window = int_or(j, "sliding_window", 0);
  if (c.model_type == ModelType::Qwen2 && get_or<bool>(j, "use_sliding_window", false))
    c.sliding_window = int_or(j, "sliding_window", 0);

  // transformers 4.x writes rope_theta/rope_scaling; 5.x nests them in rope_parameters.
  c.rope_theta = get_or<double>(j, "rope_theta", 10000.0);
  if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object() && !it->contains("full_attention")) {
    c.rope_theta = get_or<double>(*it, "rope_theta", c.rope_theta);
    c.rope_scaling = parse_rope_scaling(*it);
  }
  if (auto it = j.find("rope_scaling"); it != j.end()) c.rope_scaling = parse_rope_scaling(*it);
  check_limits(c);  // before gemma's per-layer lists are sized by num_hidden_layers
  if (c.gemma()) parse_gemma(j, c);
  if (c.model_type == ModelType::Phi3) parse_phi3(j, c);

  c.bos_token_id = int_or(j, "bos_token_id", -1);
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null())
    c.eos_token_ids =
        it->is_array() ? int_array(*it, "eos_token_id") : std::vector<int64_t>{as_int(*it, "eos_token_id")};
  std::string dtype = get_or<std::string>(j, "torch_dtype", get_or<std::string>(j, "dtype", "float32"));
  try {
    c.dtype = dtype_from_name(dtype);
  } catch (const Error&) {
    c.dtype = DType::F32;  // the tensors' own types decide; this is only the declared default
  }

  check_limits(c);  // before the per-layer widths are sized by num_hidden_layers
  // Written by optipfair when pruned layers differ in width (the tensors are zero-padded on disk).
  if (auto it = j.find("optipfair_intermediate_sizes"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw Error("config.json: key 'optipfair_intermediate_sizes' must be a list of integers");
    c.intermediate_sizes = int_array(*it, "optipfair_intermediate_sizes");
  } else {
    c.intermediate_sizes.assign(static_cast<size_t>(std::max<int64_t>(c.num_hidden_layers, 0)),
                                c.intermediate_size);
  }
  config_validate(c);
  for (int64_t w : c.intermediate_sizes)
    if (w > c.intermediate_size)
      throw Error("optipfair_intermediate_sizes has a layer wider than intermediate_size");
  return c;
}

namespace {

// transformers' class for each family, written to "architectures".
const char* architecture_class_name(ModelType type) {
  switch (type) {
    case ModelType::Llama: return "LlamaForCausalLM";
    case ModelType::Mistral: return "MistralForCausalLM";
    case ModelType::Qwen2: return "Qwen2ForCausalLM";
    case ModelType::Qwen3: return "Qwen3ForCausalLM";
    case ModelType::Gemma: return "GemmaForCausalLM";
    case ModelType::Gemma2: return "Gemma2ForCausalLM";
    case ModelType::Gemma3: return "Gemma3ForCausalLM";
    case ModelType::Phi3: return "Phi3ForCausalLM";
  }
  return "?";
}

// The keys transformers' Gemma classes read; layer_types is written whenever layers differ, so a
// depth-pruned model keeps each remaining layer's kind (a period pattern no longer describes it).
void write_gemma_keys(const ModelConfig& c, json& j) {
  j["hidden_activation"] = hidden_act_name(c.hidden_act);
  if (c.model_type == ModelType::Gemma) return;
  // transformers' configs hold it as an integer (256); a whole number stays one.
  const double scalar = c.query_pre_attn_scalar;
  j["query_pre_attn_scalar"] = scalar == std::floor(scalar) && scalar < 1e15 ? json(static_cast<int64_t>(scalar)) : json(scalar);
  j["sliding_window"] = c.sliding_window;
  json types = json::array();
  for (LayerAttention t : c.layer_types) types.push_back(t == LayerAttention::Sliding ? "sliding_attention" : "full_attention");
  j["layer_types"] = types;
  j["attn_logit_softcapping"] = c.attn_logit_softcapping > 0 ? json(c.attn_logit_softcapping) : json(nullptr);
  j["final_logit_softcapping"] = c.final_logit_softcapping > 0 ? json(c.final_logit_softcapping) : json(nullptr);
  if (c.rope_local_theta > 0 && !j.contains("rope_parameters")) j["rope_local_base_freq"] = c.rope_local_theta;
}

}  // namespace

json config_to_hf_json(const ModelConfig& c) {
  json j = c.raw.is_object() ? c.raw : json::object();
  j["architectures"] = {architecture_class_name(c.model_type)};
  j["model_type"] = model_type_name(c.model_type);
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["hidden_act"] = hidden_act_name(c.hidden_act);
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.gemma()) write_gemma_keys(c, j);
  if (c.model_type != ModelType::Qwen2) j["attention_bias"] = c.attention_bias;
  if (!j.contains("rope_parameters")) j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type == RopeScalingType::None) {
    if (!j.contains("rope_parameters")) j["rope_scaling"] = nullptr;
  } else if (c.rope_scaling.type == RopeScalingType::LongRope) {
    if (!j.contains("rope_parameters"))
      j["rope_scaling"] = {{"type", "longrope"}, {"short_factor", c.rope_scaling.short_factor},
                           {"long_factor", c.rope_scaling.long_factor}};
    j["original_max_position_embeddings"] = c.rope_scaling.original_max_position_embeddings;
  } else if (!j.contains("rope_parameters")) {
    j["rope_scaling"] = {{"rope_type", rope_scaling_type_name(c.rope_scaling.type)},
                         {"factor", c.rope_scaling.factor},
                         {"low_freq_factor", c.rope_scaling.low_freq_factor},
                         {"high_freq_factor", c.rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  }
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids;
  j["torch_dtype"] = c.dtype == DType::BF16 ? "bfloat16" : c.dtype == DType::F16 ? "float16" : "float32";
  j.erase("dtype");

  // The widest layer: narrower ones are zero-padded to it on disk, and their true widths recorded.
  int64_t widest = c.intermediate_sizes.empty() ? c.intermediate_size : 0;
  bool uniform = true;
  for (int64_t w : c.intermediate_sizes) {
    widest = std::max(widest, w);
    uniform = uniform && w == c.intermediate_sizes.front();
  }
  j["intermediate_size"] = widest;
  if (uniform) j.erase("optipfair_intermediate_sizes");
  else j["optipfair_intermediate_sizes"] = c.intermediate_sizes;
  return j;
}

}  // namespace optipfair
