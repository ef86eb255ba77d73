// Hugging Face folders: config.json plus one safetensors file or an index of shards.
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "io/model_formats.h"
#include "io/safetensors.h"
#include "util/error.h"
#include "util/json_file.h"

namespace optipfair {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Every tensor of every shard, by name, with the files kept open.
struct TensorIndex {
  std::map<std::string, Tensor> tensors;
  std::vector<std::shared_ptr<MappedFile>> files;

  void add(const SafetensorsFile& st) {
    files.push_back(st.mapping());
    for (const auto& [name, t] : st.tensors()) tensors[name] = t;
  }
  const Tensor* find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
};

TensorIndex open_weights(const fs::path& dir) {
  TensorIndex index;
  const fs::path single = dir / "model.safetensors";
  const fs::path sharded = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    index.add(SafetensorsFile::open(single));
    return index;
  }
  if (fs::exists(sharded)) {
    json j = read_json_file(sharded);
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(sharded.string() + " has no weight_map");
    std::set<std::string> shards;
    for (auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string())
        throw Error(sharded.string() + ": weight_map gives " + file.dump().substr(0, 40) + " as the file of '" +
                    name + "'");
      shards.insert(file.get<std::string>());
    }
    for (const auto& shard : shards) {
      const fs::path p = dir / shard;
      if (!fs::exists(p))
        throw Error("shard " + shard + " listed in " + sharded.string() + " is missing");
      index.add(SafetensorsFile::open(p));
    }
    return index;
  }
  if (fs::exists(dir / "pytorch_model.bin") || fs::exists(dir / "pytorch_model.bin.index.json"))
    throw Error(dir.string() + " holds only PyTorch .bin weights; optipfair reads safetensors "
                "(re-save the model with safe_serialization=True)");
  throw Error(dir.string() + " has no model.safetensors or model.safetensors.index.json");
}

}  // namespace

Model load_hf_model(const fs::path& dir) {
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path)) throw Error(dir.string() + " has no config.json");
  Model model;
  model.config = config_from_hf_json(read_json_file(config_path));
  model.source = dir;
  model.format = "safetensors";
  const ModelConfig& c = model.config;

  TensorIndex index = open_weights(dir);
  for (auto& f : index.files) {
    model.storage.push_back(f);
    model.mappings.emplace_back(f->data(), f->size());
  }

  auto required = [&](const std::string& name) -> Tensor {
    const Tensor* t = index.find(name);
    if (!t) throw Error(dir.string() + " has no tensor '" + name + "'");
    return *t;
  };
  auto optional = [&](const std::string& name) -> Tensor {
    const Tensor* t = index.find(name);
    return t ? *t : Tensor{};
  };

  // The text model of a Gemma 3 image-text checkpoint sits under another prefix (transformers
  // 4.52 and later: model.language_model.; before: language_model.model.).
  std::string prefix = "model.", head_name = "lm_head.weight";
  if (!index.find("model.embed_tokens.weight")) {
    if (index.find("model.language_model.embed_tokens.weight")) {
      prefix = "model.language_model.";
    } else if (index.find("language_model.model.embed_tokens.weight")) {
      prefix = "language_model.model.";
      head_name = "language_model.lm_head.weight";
    }
  }
  model.tok_embeddings = required(prefix + "embed_tokens.weight");
  model.final_norm = required(prefix + "norm.weight");
  const Tensor* head = index.find(head_name);
  model.lm_head = (head && !c.tie_word_embeddings) ? *head : model.tok_embeddings;
  if (!head) model.config.tie_word_embeddings = true;

  const bool padded = c.raw.contains("optipfair_intermediate_sizes");
  model.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = prefix + "layers." + std::to_string(l) + ".";
    LayerWeights& w = model.layers[static_cast<size_t>(l)];
    w.attn_norm = required(p + "input_layernorm.weight");
    if (c.fused_projections()) {
      split_fused_qkv(w, required(p + "self_attn.qkv_proj.weight"), c);
    } else {
      w.wq = required(p + "self_attn.q_proj.weight");
      w.wk = required(p + "self_attn.k_proj.weight");
      w.wv = required(p + "self_attn.v_proj.weight");
    }
    w.wo = required(p + "self_attn.o_proj.weight");
    if (c.attention_bias) {
      w.bq = required(p + "self_attn.q_proj.bias");
      w.bk = required(p + "self_attn.k_proj.bias");
      w.bv = required(p + "self_attn.v_proj.bias");
    }
    if (c.qk_norm) {
      w.q_norm = required(p + "self_attn.q_norm.weight");
      w.k_norm = required(p + "self_attn.k_norm.weight");
    }
    w.ffn_norm = required(p + hf_pre_mlp_norm_name(c) + ".weight");
    if (c.post_norms()) {
      w.attn_post_norm = required(p + "post_attention_layernorm.weight");
      w.ffn_post_norm = required(p + "post_feedforward_layernorm.weight");
    }
    if (c.fused_projections()) {
      split_fused_gate_up(w, required(p + "mlp.gate_up_proj.weight"));
    } else {
      w.w_gate = optional(p + "mlp.gate_proj.weight");
      if (!w.w_gate.present())
        throw Error(dir.string() + " has no " + p +
                    "mlp.gate_proj.weight: optipfair needs a gated (GLU) MLP in every layer");
      w.w_up = required(p + "mlp.up_proj.weight");
    }
    w.w_down = required(p + "mlp.down_proj.weight");

    // A layer pruned narrower than its neighbours is zero-padded on disk: view its true width.
    const int64_t width = c.intermediate_sizes[static_cast<size_t>(l)];
    if (padded && w.w_gate.shape.size() == 2 && w.w_down.shape.size() == 2 && width < w.w_gate.shape[0] &&
        w.w_gate.shape[0] == w.w_down.shape[1]) {
      w.w_down.row_stride = w.w_down.shape[1];
      w.w_gate.shape[0] = width;
      w.w_up.shape[0] = width;
      w.w_down.shape[1] = width;
    }
  }
  model_validate(model);
  return model;
}

}  // namespace optipfair
