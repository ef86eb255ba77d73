#include "model/synthetic.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "kernels/quantize.h"
#include "util/error.h"

namespace optipfair {

namespace {

using nlohmann::json;

// The config.json keys each real checkpoint ships (transformers' own spelling), trimmed to what
// changes behaviour or is shown to users.
json preset_config(const std::string& preset) {
  if (preset == "llama-3.2-1b")
    return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"attention_bias", false},
            {"attention_dropout", 0.0}, {"bos_token_id", 128000}, {"eos_token_id", 128001}, {"head_dim", 64},
            {"hidden_act", "silu"}, {"hidden_size", 2048}, {"initializer_range", 0.02}, {"intermediate_size", 8192},
            {"max_position_embeddings", 131072}, {"mlp_bias", false}, {"num_attention_heads", 32},
            {"num_hidden_layers", 16}, {"num_key_value_heads", 8}, {"pretraining_tp", 1}, {"rms_norm_eps", 1e-5},
            {"rope_scaling", {{"factor", 32.0}, {"high_freq_factor", 4.0}, {"low_freq_factor", 1.0},
                              {"original_max_position_embeddings", 8192}, {"rope_type", "llama3"}}},
            {"rope_theta", 500000.0}, {"tie_word_embeddings", true}, {"use_cache", true}, {"vocab_size", 128256}};
  if (preset == "smollm2-135m")
    return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"attention_bias", false},
            {"attention_dropout", 0.0}, {"bos_token_id", 1}, {"eos_token_id", 2}, {"head_dim", 64},
            {"hidden_act", "silu"}, {"hidden_size", 576}, {"initializer_range", 0.041666666666666664},
            {"intermediate_size", 1536}, {"max_position_embeddings", 8192}, {"mlp_bias", false},
            {"num_attention_heads", 9}, {"num_hidden_layers", 30}, {"num_key_value_heads", 3},
            {"pretraining_tp", 1}, {"rms_norm_eps", 1e-5}, {"rope_scaling", nullptr}, {"rope_theta", 100000.0},
            {"tie_word_embeddings", true}, {"use_cache", true}, {"vocab_size", 49152}};
  if (preset == "qwen2.5-0.5b")
    return {{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"attention_dropout", 0.0},
            {"bos_token_id", 151643}, {"eos_token_id", 151643}, {"hidden_act", "silu"}, {"hidden_size", 896},
            {"initializer_range", 0.02}, {"intermediate_size", 4864}, {"max_position_embeddings", 32768},
            {"max_window_layers", 24}, {"num_attention_heads", 14}, {"num_hidden_layers", 24},
            {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0},
            {"sliding_window", 32768}, {"tie_word_embeddings", true}, {"use_cache", true},
            {"use_sliding_window", false}, {"vocab_size", 151936}};
  if (preset == "qwen3-0.6b")
    return {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"attention_bias", false},
            {"attention_dropout", 0.0}, {"bos_token_id", 151643}, {"eos_token_id", 151645}, {"head_dim", 128},
            {"hidden_act", "silu"}, {"hidden_size", 1024}, {"initializer_range", 0.02}, {"intermediate_size", 3072},
            {"max_position_embeddings", 40960}, {"max_window_layers", 28}, {"num_attention_heads", 16},
            {"num_hidden_layers", 28}, {"num_key_value_heads", 8}, {"rms_norm_eps", 1e-6}, {"rope_scaling", nullptr},
            {"rope_theta", 1000000.0}, {"sliding_window", nullptr}, {"tie_word_embeddings", true},
            {"use_cache", true}, {"use_sliding_window", false}, {"vocab_size", 151936}};
  if (preset == "gemma-3-1b")
    return {{"architectures", {"Gemma3ForCausalLM"}}, {"model_type", "gemma3_text"}, {"attention_bias", false},
            {"attention_dropout", 0.0}, {"attn_logit_softcapping", nullptr}, {"bos_token_id", 2},
            {"eos_token_id", 1}, {"final_logit_softcapping", nullptr}, {"head_dim", 256},
            {"hidden_activation", "gelu_pytorch_tanh"}, {"hidden_size", 1152}, {"initializer_range", 0.02},
            {"intermediate_size", 6912}, {"max_position_embeddings", 32768}, {"num_attention_heads", 4},
            {"num_hidden_layers", 26}, {"num_key_value_heads", 1}, {"pad_token_id", 0},
            {"query_pre_attn_scalar", 256}, {"rms_norm_eps", 1e-6}, {"rope_local_base_freq", 10000.0},
            {"rope_scaling", nullptr}, {"rope_theta", 1000000.0}, {"sliding_window", 512},
            {"sliding_window_pattern", 6}, {"use_cache", true}, {"vocab_size", 262144}};
  if (preset == "gemma-2-2b")
    return {{"architectures", {"Gemma2ForCausalLM"}}, {"model_type", "gemma2"}, {"attention_bias", false},
            {"attention_dropout", 0.0}, {"attn_logit_softcapping", 50.0}, {"bos_token_id", 2}, {"eos_token_id", 1},
            {"final_logit_softcapping", 30.0}, {"head_dim", 256}, {"hidden_act", "gelu_pytorch_tanh"},
            {"hidden_activation", "gelu_pytorch_tanh"}, {"hidden_size", 2304}, {"initializer_range", 0.02},
            {"intermediate_size", 9216}, {"max_position_embeddings", 8192}, {"num_attention_heads", 8},
            {"num_hidden_layers", 26}, {"num_key_value_heads", 4}, {"pad_token_id", 0},
            {"query_pre_attn_scalar", 256}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0},
            {"sliding_window", 4096}, {"use_cache", true}, {"vocab_size", 256000}};
  if (preset == "gemma-2b")
    return {{"architectures", {"GemmaForCausalLM"}}, {"model_type", "gemma"}, {"attention_bias", false},
            {"bos_token_id", 2}, {"eos_token_id", 1}, {"head_dim", 256}, {"hidden_act", "gelu"},
            {"hidden_activation", "gelu_pytorch_tanh"}, {"hidden_size", 2048}, {"initializer_range", 0.02},
            {"intermediate_size", 16384}, {"max_position_embeddings", 8192}, {"num_attention_heads", 8},
            {"num_hidden_layers", 18}, {"num_key_value_heads", 1}, {"pad_token_id", 0}, {"rms_norm_eps", 1e-6},
            {"rope_scaling", nullptr}, {"rope_theta", 10000.0}, {"vocab_size", 256000}};
  if (preset == "phi-3-mini")
    return {{"architectures", {"Phi3ForCausalLM"}}, {"model_type", "phi3"}, {"attention_bias", false},
            {"attention_dropout", 0.0}, {"bos_token_id", 1}, {"embd_pdrop", 0.0}, {"eos_token_id", 32000},
            {"hidden_act", "silu"}, {"hidden_size", 3072}, {"initializer_range", 0.02}, {"intermediate_size", 8192},
            {"max_position_embeddings", 4096}, {"num_attention_heads", 32}, {"num_hidden_layers", 32},
            {"num_key_value_heads", 32}, {"original_max_position_embeddings", 4096}, {"pad_token_id", 32000},
            {"resid_pdrop", 0.0}, {"rms_norm_eps", 1e-5}, {"rope_scaling", nullptr}, {"rope_theta", 10000.0},
            {"sliding_window", 2047}, {"tie_word_embeddings", false}, {"use_cache", true}, {"vocab_size", 32064}};
  json tiny = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"attention_bias", false},
               {"bos_token_id", 1}, {"eos_token_id", 2}, {"head_dim", 16}, {"hidden_act", "silu"},
               {"hidden_size", 64}, {"initializer_range", 0.02}, {"intermediate_size", 128},
               {"max_position_embeddings", 512}, {"mlp_bias", false}, {"num_attention_heads", 4},
               {"num_hidden_layers", 2}, {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-5},
               {"rope_scaling", nullptr}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false},
               {"use_cache", true}, {"vocab_size", 256}};
  if (preset == "tiny") return tiny;
  if (preset == "tiny-k") {  // rows of whole K-quant super-blocks (256), 8 layers for the Q4_K_M mixture
    tiny["hidden_size"] = 256;
    tiny["intermediate_size"] = 512;
    tiny["head_dim"] = 64;
    tiny["num_hidden_layers"] = 8;
    tiny["vocab_size"] = 512;
    return tiny;
  }
  if (preset == "tiny-qwen2") {
    tiny["architectures"] = {"Qwen2ForCausalLM"};
    tiny["model_type"] = "qwen2";
    tiny.erase("attention_bias");
    tiny.erase("mlp_bias");
    tiny["rms_norm_eps"] = 1e-6;
    tiny["rope_theta"] = 1000000.0;
    tiny["tie_word_embeddings"] = true;
    tiny["use_sliding_window"] = false;
    return tiny;
  }
  if (preset == "tiny-qwen3") {
    tiny["architectures"] = {"Qwen3ForCausalLM"};
    tiny["model_type"] = "qwen3";
    tiny["head_dim"] = 32;  // unlike hidden / heads (16), as in the real Qwen3 models
    tiny["rms_norm_eps"] = 1e-6;
    tiny["rope_theta"] = 1000000.0;
    tiny["tie_word_embeddings"] = true;
    return tiny;
  }
  if (preset == "tiny-gemma3" || preset == "tiny-gemma2" || preset == "tiny-gemma") {
    // Small enough for unit tests, with every Gemma difference visible: a head size unlike
    // hidden / heads, a query scalar unlike it, a window shorter than the tests' prompts, sliding
    // and global layers with their own RoPE bases (3), soft-caps that bite on small logits (2).
    const bool g3 = preset == "tiny-gemma3", g2 = preset == "tiny-gemma2";
    tiny["architectures"] = {g3 ? "Gemma3ForCausalLM" : g2 ? "Gemma2ForCausalLM" : "GemmaForCausalLM"};
    tiny["model_type"] = g3 ? "gemma3_text" : g2 ? "gemma2" : "gemma";
    tiny.erase("hidden_act");
    tiny.erase("mlp_bias");
    tiny["hidden_activation"] = "gelu_pytorch_tanh";
    tiny["head_dim"] = 32;
    tiny["num_hidden_layers"] = g3 ? 4 : 2;
    tiny["rms_norm_eps"] = 1e-6;
    tiny["tie_word_embeddings"] = true;
    tiny["bos_token_id"] = 2;
    tiny["eos_token_id"] = 1;
    if (g3 || g2) {
      tiny["query_pre_attn_scalar"] = 32;  // = head_dim, as llama.cpp assumes (not hidden / heads = 16)
      tiny["sliding_window"] = 6;
    }
    if (g3) {
      tiny["sliding_window_pattern"] = 2;
      tiny["rope_theta"] = 1000000.0;
      tiny["rope_local_base_freq"] = 10000.0;
    }
    if (g2) {
      tiny["attn_logit_softcapping"] = 0.5;
      tiny["final_logit_softcapping"] = 0.2;
    }
    return tiny;
  }
  if (preset == "tiny-phi3") {
    // Phi-4-mini's partial rotation (3/4 of each head) and Phi-3's LongRope, with an original
    // context of 256 (llama.cpp's smallest context: it picks the factors by context size, we and
    // transformers by the positions reached) and an attention factor above 1.
    tiny["architectures"] = {"Phi3ForCausalLM"};
    tiny["model_type"] = "phi3";
    tiny.erase("mlp_bias");
    tiny["head_dim"] = 32;
    tiny["hidden_size"] = 128;
    tiny["partial_rotary_factor"] = 0.75;
    tiny["original_max_position_embeddings"] = 256;
    tiny["max_position_embeddings"] = 2048;
    json short_f = json::array(), long_f = json::array();
    for (int j = 0; j < 12; ++j) {
      short_f.push_back(1.0 + 0.05 * j);
      long_f.push_back(1.5 + 0.4 * j);
    }
    tiny["rope_scaling"] = {{"type", "longrope"}, {"short_factor", short_f}, {"long_factor", long_f}};
    tiny["sliding_window"] = nullptr;
    return tiny;
  }
  std::string names;
  for (const auto& p : synthetic_presets()) names += (names.empty() ? "" : ", ") + p;
  throw Error("unknown synthetic preset '" + preset + "' (known: " + names + ")");
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

constexpr int64_t kChunk = int64_t{1} << 16;

template <typename Store>
void fill_chunk(uint64_t state, float mean, float std_dev, int64_t n, Store store) {
  // Irwin-Hall: the sum of four 16-bit uniforms is bell-shaped with variance 4/12; at ~1 ns a
  // value it keeps a 1.2B-parameter model to seconds, where std::normal_distribution takes minutes.
  const float scale = std_dev * std::sqrt(3.0f) / 65536.0f;
  const float centre = 4.0f * 32767.5f;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t r = splitmix64(state);
    float sum = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    store(i, mean + (sum - centre) * scale);
  }
}

void fill_random(void* data, DType dtype, int64_t n, uint64_t seed, float mean, float std_dev) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t c = 0; c < chunks; ++c) {
    uint64_t state = seed ^ (static_cast<uint64_t>(c) * 0xd1b54a32d192ed03ull);
    splitmix64(state);
    const int64_t begin = c * kChunk, count = std::min(kChunk, n - begin);
    switch (dtype) {
      case DType::F32: {
        float* d = static_cast<float*>(data) + begin;
        fill_chunk(state, mean, std_dev, count, [d](int64_t i, float v) { d[i] = v; });
        break;
      }
      case DType::F16: {
        uint16_t* d = static_cast<uint16_t*>(data) + begin;
        fill_chunk(state, mean, std_dev, count, [d](int64_t i, float v) { d[i] = f32_to_f16(v); });
        break;
      }
      case DType::BF16: {
        uint16_t* d = static_cast<uint16_t*>(data) + begin;
        fill_chunk(state, mean, std_dev, count, [d](int64_t i, float v) { d[i] = f32_to_bf16(v); });
        break;
      }
      default: break;  // block types are refused by make_synthetic_model
    }
  }
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// The layer index in "model.layers.N.…", or -1.
int64_t layer_of(const std::string& name) {
  const std::string key = "layers.";
  const size_t at = name.find(key);
  return at == std::string::npos ? -1 : std::stoll(name.substr(at + key.size()));
}

// A block type that does not divide a row: llama.cpp's replacement.
DType fallback_type(DType t, int64_t cols) {
  if (cols % dtype_block_elements(t) == 0) return t;
  switch (t) {
    case DType::Q4_K: return fallback_type(DType::Q5_0, cols);
    case DType::Q5_K: return fallback_type(DType::Q5_1, cols);
    case DType::Q6_K: return fallback_type(DType::Q8_0, cols);
    default: return DType::F16;
  }
}

class Builder {
 public:
  Builder(Model& model, SyntheticWeights weights, uint64_t seed) : model_(model), w_(weights), seed_(seed) {}

  Tensor weight(const std::string& name, std::vector<int64_t> shape) { return make(name, std::move(shape), 0.0f, 0.02f); }
  // Norm weights about 1 as the kernel applies them: Gemma stores them as offsets from 1.
  Tensor norm(const std::string& name, int64_t n, float offset) { return make(name, {n}, 1.0f - offset, 0.02f); }

 private:
  DType type_of(const std::string& name, const std::vector<int64_t>& shape) const {
    if (!dtype_is_quantized(w_.dtype)) return w_.dtype;
    if (shape.size() < 2) return DType::F32;  // norms and biases, as llama.cpp keeps them
    DType t = w_.dtype;
    if (w_.mixture == QuantMixture::Medium) {
      const int64_t layer = layer_of(name), n = model_.config.num_hidden_layers;
      const bool head = name == "lm_head.weight" || (name == "model.embed_tokens.weight" && model_.config.tie_word_embeddings);
      const bool more_bits = layer >= 0 && use_more_bits(layer, n) &&
                             (name.find("v_proj") != std::string::npos || name.find("down_proj") != std::string::npos);
      if (head || more_bits) t = DType::Q6_K;
    }
    return fallback_type(t, shape.back());
  }

  Tensor make(const std::string& name, std::vector<int64_t> shape, float mean, float std_dev) {
    Tensor t;
    t.name = name;
    t.dtype = type_of(name, shape);
    t.shape = std::move(shape);
    void* data = model_.allocate(t.nbytes());
    uint64_t state = seed_ ^ name_hash(name);
    if (dtype_is_quantized(t.dtype)) {
      std::vector<float> values(static_cast<size_t>(t.numel()));
      fill_random(values.data(), DType::F32, t.numel(), splitmix64(state), mean, std_dev);
      const int64_t rows = t.rows(), cols = t.cols();
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r)
        quantize_blocks(t.dtype, values.data() + r * cols, static_cast<uint8_t*>(data) + dtype_bytes(t.dtype, cols) * r, cols);
    } else {
      fill_random(data, t.dtype, t.numel(), splitmix64(state), mean, std_dev);
    }
    t.data = data;
    return t;
  }
  Model& model_;
  SyntheticWeights w_;
  uint64_t seed_;
};

}  // namespace

const std::vector<std::string>& synthetic_presets() {
  static const std::vector<std::string> names = {"llama-3.2-1b", "smollm2-135m", "qwen2.5-0.5b", "qwen3-0.6b",
                                                 "gemma-3-1b", "gemma-2-2b", "gemma-2b", "phi-3-mini", "tiny",
                                                 "tiny-k", "tiny-qwen2", "tiny-qwen3", "tiny-gemma", "tiny-gemma2", "tiny-gemma3",
                                                 "tiny-phi3"};
  return names;
}

SyntheticWeights synthetic_weights_from_name(const std::string& name) {
  std::string upper = name;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (upper == "Q4_K_M") return {DType::Q4_K, QuantMixture::Medium};
  if (upper == "Q5_K_M") return {DType::Q5_K, QuantMixture::Medium};
  try {
    return {dtype_from_name(upper), QuantMixture::Uniform};
  } catch (const Error&) {
    throw Error("unknown weight type '" + name + "' (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, q4_k_m, q5_k_m)");
  }
}

json synthetic_hf_config(const std::string& preset, DType dtype, int64_t num_layers) {
  json j = preset_config(preset);
  if (num_layers < 0) throw Error("the number of layers must be positive");
  if (num_layers > 0) j["num_hidden_layers"] = num_layers;
  j["torch_dtype"] = dtype == DType::BF16 ? "bfloat16" : dtype == DType::F16 ? "float16" : "float32";
  return j;
}

Model make_synthetic_model(const std::string& preset, DType dtype, uint64_t seed, int64_t num_layers_override) {
  return make_synthetic_model(preset, SyntheticWeights{dtype, QuantMixture::Uniform}, seed, num_layers_override);
}

Model make_synthetic_model(const std::string& preset, SyntheticWeights weights, uint64_t seed, int64_t num_layers_override) {
  const DType dtype = weights.dtype;
  json raw = synthetic_hf_config(preset, dtype, num_layers_override);
  Model m;
  m.config = config_from_hf_json(raw);
  m.config.raw = raw;
  m.config.dtype = dtype;
  m.format = "synthetic";
  const ModelConfig& c = m.config;
  const int64_t H = c.hidden_size;
  const float off = c.norm_offset();

  Builder b(m, weights, seed);
  m.tok_embeddings = b.weight("model.embed_tokens.weight", {c.vocab_size, H});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    const int64_t I = c.intermediate_sizes[static_cast<size_t>(i)];
    LayerWeights l;
    l.attn_norm = b.norm(p + "input_layernorm.weight", H, off);
    if (c.fused_projections()) {
      split_fused_qkv(l, b.weight(p + "self_attn.qkv_proj.weight", {c.q_dim() + 2 * c.kv_dim(), H}), c);
    } else {
      l.wq = b.weight(p + "self_attn.q_proj.weight", {c.q_dim(), H});
      l.wk = b.weight(p + "self_attn.k_proj.weight", {c.kv_dim(), H});
      l.wv = b.weight(p + "self_attn.v_proj.weight", {c.kv_dim(), H});
    }
    if (c.attention_bias) {
      l.bq = b.weight(p + "self_attn.q_proj.bias", {c.q_dim()});
      l.bk = b.weight(p + "self_attn.k_proj.bias", {c.kv_dim()});
      l.bv = b.weight(p + "self_attn.v_proj.bias", {c.kv_dim()});
    }
    if (c.qk_norm) {
      l.q_norm = b.norm(p + "self_attn.q_norm.weight", c.head_dim, off);
      l.k_norm = b.norm(p + "self_attn.k_norm.weight", c.head_dim, off);
    }
    l.wo = b.weight(p + "self_attn.o_proj.weight", {H, c.q_dim()});
    l.ffn_norm = b.norm(p + hf_pre_mlp_norm_name(c) + ".weight", H, off);
    if (c.post_norms()) {
      l.attn_post_norm = b.norm(p + "post_attention_layernorm.weight", H, off);
      l.ffn_post_norm = b.norm(p + "post_feedforward_layernorm.weight", H, off);
    }
    if (c.fused_projections()) {
      split_fused_gate_up(l, b.weight(p + "mlp.gate_up_proj.weight", {2 * I, H}));
    } else {
      l.w_gate = b.weight(p + "mlp.gate_proj.weight", {I, H});
      l.w_up = b.weight(p + "mlp.up_proj.weight", {I, H});
    }
    l.w_down = b.weight(p + "mlp.down_proj.weight", {H, I});
    m.layers.push_back(std::move(l));
  }
  m.final_norm = b.norm("model.norm.weight", H, off);
  m.lm_head = c.tie_word_embeddings ? m.tok_embeddings : b.weight("lm_head.weight", {c.vocab_size, H});
  return m;
}

}  // namespace optipfair
