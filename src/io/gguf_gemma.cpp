#include "io/gguf_gemma.h"

#include <cmath>

#include "kernels/matmul.h"
#include "util/error.h"

namespace optipfair {

bool gguf_arch_is_gemma(const std::string& arch) { return arch == "gemma" || arch == "gemma2" || arch == "gemma3"; }

std::string gguf_gemma_arch(const ModelConfig& c) {
  switch (c.model_type) {
    case ModelType::Gemma: return "gemma";
    case ModelType::Gemma2: return "gemma2";
    default: return "gemma3";
  }
}

namespace {

// llama.cpp's layer kinds for a period p: layer l slides unless l % p == p - 1 (p = 0: all slide).
std::vector<LayerAttention> periodic_layers(int64_t period, int64_t layers) {
  std::vector<LayerAttention> out;
  for (int64_t l = 0; l < layers; ++l)
    out.push_back(period == 0 || l % period < period - 1 ? LayerAttention::Sliding : LayerAttention::Full);
  return out;
}

// The period that gives these layer kinds under llama.cpp's rule, or 0 when none does.
int64_t period_of(const std::vector<LayerAttention>& types) {
  for (int64_t p = 1; p <= static_cast<int64_t>(types.size()) + 1; ++p)
    if (periodic_layers(p, static_cast<int64_t>(types.size())) == types) return p;
  return 0;
}

}  // namespace

void gguf_read_gemma_config(const GgufFile& g, const std::string& arch, ModelConfig& c) {
  auto key = [&](const std::string& k) { return arch + "." + k; };
  c.model_type = arch == "gemma" ? ModelType::Gemma : arch == "gemma2" ? ModelType::Gemma2 : ModelType::Gemma3;
  c.hidden_act = HiddenAct::GeluTanh;
  if (arch == "gemma") return;
  // llama.cpp scales queries by 1/sqrt(head_dim), except in the 27B shapes (46 and 62 layers)
  // by 1/sqrt(hidden / heads); our own key keeps the config's value when it is neither.
  const bool big = c.num_hidden_layers == (arch == "gemma2" ? 46 : 62);
  c.query_pre_attn_scalar = g.has("optipfair.query_pre_attn_scalar")
                                ? g.get_float("optipfair.query_pre_attn_scalar")
                                : static_cast<double>(big ? c.hidden_size / c.num_attention_heads : c.head_dim);
  if (g.has(key("final_logit_softcapping"))) c.final_logit_softcapping = g.get_float(key("final_logit_softcapping"));
  if (arch == "gemma2") {
    c.attn_logit_softcapping = g.has(key("attn_logit_softcapping")) ? g.get_float(key("attn_logit_softcapping")) : 0.0;
    c.sliding_window = g.has(key("attention.sliding_window")) ? g.get_int(key("attention.sliding_window")) : 4096;
  } else {
    if (g.has(key("attn_logit_softcapping"))) c.attn_logit_softcapping = g.get_float(key("attn_logit_softcapping"));
    c.sliding_window = g.has(key("attention.sliding_window")) ? g.get_int(key("attention.sliding_window")) : 0;
    c.rope_local_theta = g.has(key("rope.freq_base_swa")) ? g.get_float(key("rope.freq_base_swa")) : 10000.0;
  }
  if (c.sliding_window <= 0) {  // gemma3 without a window: every layer global, one RoPE base
    c.sliding_window = 0;
    c.rope_local_theta = 0;
    return;
  }
  if (g.has("optipfair.sliding_layers")) {
    const std::vector<int64_t> flags = g.get_int_array("optipfair.sliding_layers");
    if (static_cast<int64_t>(flags.size()) != c.num_hidden_layers)
      throw Error("GGUF key optipfair.sliding_layers has " + std::to_string(flags.size()) + " entries for " +
                  std::to_string(c.num_hidden_layers) + " layers");
    for (int64_t f : flags) c.layer_types.push_back(f != 0 ? LayerAttention::Sliding : LayerAttention::Full);
    return;
  }
  const int64_t period = g.has(key("attention.sliding_window_pattern"))
                             ? g.get_int(key("attention.sliding_window_pattern"))
                             : (arch == "gemma2" ? 2 : 6);
  if (period < 0 || period > kMaxLayers)
    throw Error("GGUF key " + key("attention.sliding_window_pattern") + " holds " + std::to_string(period));
  c.layer_types = periodic_layers(period, c.num_hidden_layers);
}

void gguf_write_gemma_keys(GgufWriter& w, const std::string& arch, const ModelConfig& c) {
  auto key = [&](const std::string& k) { return arch + "." + k; };
  if (arch == "gemma") return;
  const bool big = c.num_hidden_layers == (arch == "gemma2" ? 46 : 62);
  const double llama_cpp_scalar = static_cast<double>(big ? c.hidden_size / c.num_attention_heads : c.head_dim);
  const double scalar = c.query_pre_attn_scalar > 0 ? c.query_pre_attn_scalar : static_cast<double>(c.head_dim);
  if (scalar != llama_cpp_scalar) w.set("optipfair.query_pre_attn_scalar", gguf_float64(scalar));
  if (c.attn_logit_softcapping > 0)
    w.set(key("attn_logit_softcapping"), gguf_float32(static_cast<float>(c.attn_logit_softcapping)));
  if (c.final_logit_softcapping > 0)
    w.set(key("final_logit_softcapping"), gguf_float32(static_cast<float>(c.final_logit_softcapping)));
  if (c.sliding_window <= 0) return;
  w.set(key("attention.sliding_window"), gguf_uint32(static_cast<uint32_t>(c.sliding_window)));
  if (arch == "gemma3" && c.rope_local_theta > 0)
    w.set(key("rope.freq_base_swa"), gguf_float32(static_cast<float>(c.rope_local_theta)));
  // llama.cpp knows layer kinds only as a period; a depth-pruned model may have lost it, and then
  // our key keeps the kinds (llama.cpp would run such a file with the default period).
  const std::vector<LayerAttention> types =
      c.layer_types.empty() ? std::vector<LayerAttention>(static_cast<size_t>(c.num_hidden_layers), LayerAttention::Sliding)
                            : c.layer_types;
  const int64_t period = period_of(types);
  if (period > 0) {
    w.set(key("attention.sliding_window_pattern"), gguf_uint32(static_cast<uint32_t>(period)));
    return;
  }
  std::vector<int64_t> flags;
  for (LayerAttention t : types) flags.push_back(t == LayerAttention::Sliding ? 1 : 0);
  w.set("optipfair.sliding_layers", gguf_int32_array(flags));
}

Tensor gguf_gemma_norm_from_file(Model& m, const Tensor& stored) {
  if (stored.shape.size() != 1) throw Error("GGUF norm tensor '" + stored.name + "' is not a vector");
  const int64_t n = stored.shape[0];
  auto* out = static_cast<float*>(m.allocate(static_cast<size_t>(n) * sizeof(float)));
  dequantize_row(out, WeightMatrix{stored.data, stored.dtype, 1, n, stored.nbytes()}, 0);
  for (int64_t i = 0; i < n; ++i) out[i] -= 1.0f;
  Tensor t = stored;
  t.dtype = DType::F32;
  t.data = out;
  return t;
}

const float* gguf_gemma_norm_to_file(const Tensor& t, std::deque<std::vector<float>>& keep) {
  std::vector<float>& f = keep.emplace_back(static_cast<size_t>(t.numel()));
  dequantize_row(f.data(), WeightMatrix{t.data, t.dtype, 1, t.numel(), t.nbytes()}, 0);
  for (float& x : f) x += 1.0f;
  return f.data();
}

}  // namespace optipfair
