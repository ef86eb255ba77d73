#include "model/param_count.h"

#include <algorithm>
#include <cmath>

namespace optipfair {

ParamCount count_parameters(const Model& m) {
  ParamCount pc;
  pc.embeddings = m.tok_embeddings.numel();
  pc.lm_head = m.lm_head.data == m.tok_embeddings.data ? 0 : m.lm_head.numel();
  pc.norms = m.final_norm.numel();
  for (const LayerWeights& w : m.layers) {
    LayerParamCount l;
    for (const Tensor* t : {&w.wq, &w.wk, &w.wv, &w.wo, &w.bq, &w.bk, &w.bv, &w.q_norm, &w.k_norm})
      if (t->present()) l.attention += t->numel();
    l.mlp = w.w_gate.numel() + w.w_up.numel() + w.w_down.numel();
    l.norms = w.attn_norm.numel() + w.ffn_norm.numel();
    for (const Tensor* t : {&w.attn_post_norm, &w.ffn_post_norm})
      if (t->present()) l.norms += t->numel();
    l.intermediate_size = w.intermediate_size();
    pc.attention += l.attention;
    pc.mlp += l.mlp;
    pc.norms += l.norms;
    pc.layers.push_back(l);
  }
  return pc;
}

std::vector<PruningSaving> pruning_savings(const Model& m, const std::vector<double>& percentages) {
  const ParamCount pc = count_parameters(m);
  const int64_t H = m.config.hidden_size;
  // MLP weights decide: they are what pruning removes.
  const DType t = m.layers.empty() ? m.config.dtype : m.layers.front().w_gate.dtype;
  const double bytes_per_param = static_cast<double>(dtype_bytes(t, kQ8BlockSize)) / kQ8BlockSize;
  std::vector<PruningSaving> out;
  for (double p : percentages) {
    PruningSaving s;
    s.percentage = p;
    for (const LayerParamCount& l : pc.layers) {
      const auto removed = std::min<int64_t>(static_cast<int64_t>(std::floor(p / 100.0 * static_cast<double>(l.intermediate_size))),
                                             l.intermediate_size - 1);
      s.neurons_removed += removed;
    }
    s.parameters_removed = s.neurons_removed * 3 * H;
    s.bytes_saved = static_cast<int64_t>(static_cast<double>(s.parameters_removed) * bytes_per_param);
    s.parameter_reduction_percent = 100.0 * static_cast<double>(s.parameters_removed) / static_cast<double>(pc.total());
    out.push_back(s);
  }
  return out;
}

nlohmann::json model_summary_json(const Model& m) {
  const ModelConfig& c = m.config;
  const ParamCount pc = count_parameters(m);
  nlohmann::json j;
  j["model_path"] = m.source.string();
  j["format"] = m.format;
  j["model_type"] = model_type_name(c.model_type);
  j["dtype"] = dtype_name(m.layers.empty() ? c.dtype : m.layers.front().w_gate.dtype);
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rope_theta"] = c.rope_theta;
  j["rope_scaling"] = rope_scaling_type_name(c.rope_scaling.type);
  j["tie_word_embeddings"] = m.lm_head.data == m.tok_embeddings.data;
  j["intermediate_sizes"] = c.intermediate_sizes;
  const bool uniform = std::all_of(c.intermediate_sizes.begin(), c.intermediate_sizes.end(),
                                   [&](int64_t w) { return w == c.intermediate_sizes.front(); });
  j["intermediate_size"] = uniform ? nlohmann::json(c.intermediate_sizes.front()) : nlohmann::json(nullptr);
  std::vector<double> ratios;
  for (int64_t w : c.intermediate_sizes) ratios.push_back(static_cast<double>(w) / static_cast<double>(c.hidden_size));
  j["expansion_ratio"] = uniform ? nlohmann::json(ratios.front()) : nlohmann::json(ratios);
  j["expansion_rate_percent"] = uniform ? nlohmann::json(100.0 * ratios.front()) : nlohmann::json(nullptr);
  j["glu_pruning_applicable"] = true;  // loading refuses models without a gated MLP
  j["parameters"] = {{"total", pc.total()},       {"embeddings", pc.embeddings}, {"lm_head", pc.lm_head},
                     {"attention", pc.attention}, {"mlp", pc.mlp},               {"norms", pc.norms}};
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < pc.layers.size(); ++i) {
    const auto& l = pc.layers[i];
    layers.push_back({{"layer", i},           {"attention", l.attention}, {"mlp", l.mlp},
                      {"norms", l.norms},     {"total", l.total()},       {"intermediate_size", l.intermediate_size}});
  }
  j["layers"] = layers;
  nlohmann::json table = nlohmann::json::array();
  for (const PruningSaving& s : pruning_savings(m, {10, 20, 30, 40, 50})) {
    table.push_back({{"pruning_percentage", s.percentage},
                     {"neurons_removed", s.neurons_removed},
                     {"parameters_removed", s.parameters_removed},
                     {"bytes_saved", s.bytes_saved},
                     {"percentage_reduction", s.parameter_reduction_percent},
                     {"remaining_parameters", pc.total() - s.parameters_removed}});
  }
  j["pruning_savings"] = table;
  return j;
}

}  // namespace optipfair
