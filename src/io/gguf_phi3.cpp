#include "io/gguf_phi3.h"

#include <cstring>

#include "util/error.h"

namespace optipfair {

namespace {

std::vector<double> factors(const GgufFile& g, const char* name, int64_t expected) {
  const GgufTensorInfo* t = g.find_tensor(name);
  if (!t) throw Error(std::string("GGUF phi3 file has one of rope_factors_short/long but not ") + name);
  if (t->dtype != DType::F32 || t->shape.size() != 1 || t->shape[0] != expected)
    throw Error(std::string("GGUF tensor ") + name + " must be " + std::to_string(expected) +
                " float32 values (half the rotated dimensions)");
  std::vector<float> f(static_cast<size_t>(expected));
  std::memcpy(f.data(), t->data, f.size() * sizeof(float));
  return {f.begin(), f.end()};
}

}  // namespace

void gguf_read_phi3_config(const GgufFile& g, ModelConfig& c) {
  c.sliding_window = g.has("phi3.attention.sliding_window") ? g.get_int("phi3.attention.sliding_window") : 0;
  if (c.sliding_window < 0) throw Error("GGUF phi3.attention.sliding_window is negative");
  if (!g.find_tensor("rope_factors_long.weight") && !g.find_tensor("rope_factors_short.weight")) return;
  RopeScaling& r = c.rope_scaling;
  r.type = RopeScalingType::LongRope;
  const int64_t half = c.rope_dim() / 2;
  r.short_factor = factors(g, "rope_factors_short.weight", half);
  r.long_factor = factors(g, "rope_factors_long.weight", half);
  r.original_max_position_embeddings = g.has("phi3.rope.scaling.original_context_length")
                                           ? g.get_int("phi3.rope.scaling.original_context_length")
                                           : c.max_position_embeddings;
  r.attention_factor = g.has("phi3.rope.scaling.attn_factor") ? g.get_float("phi3.rope.scaling.attn_factor") : 1.0;
}

void gguf_write_phi3_keys(GgufWriter& w, const ModelConfig& c, std::deque<std::vector<float>>& keep) {
  // 0 is how llama.cpp's converter says "no window" (Phi-4).
  w.set("phi3.attention.sliding_window", gguf_uint32(static_cast<uint32_t>(c.sliding_window)));
  const RopeScaling& r = c.rope_scaling;
  if (r.type != RopeScalingType::LongRope) return;
  w.set("phi3.rope.scaling.attn_factor", gguf_float32(static_cast<float>(r.attention_factor > 0 ? r.attention_factor : 1.0)));
  w.set("phi3.rope.scaling.original_context_length", gguf_uint32(static_cast<uint32_t>(r.original_max_position_embeddings)));
  for (auto [name, list] : {std::pair{"rope_factors_long.weight", &r.long_factor},
                            std::pair{"rope_factors_short.weight", &r.short_factor}}) {
    std::vector<float>& f = keep.emplace_back(list->begin(), list->end());
    w.add_tensor(name, DType::F32, {static_cast<int64_t>(f.size())}, f.data());
  }
}

}  // namespace optipfair
