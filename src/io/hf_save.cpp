// Saving a model as a Hugging Face folder that transformers loads unchanged.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "io/model_formats.h"
#include "io/safetensors_writer.h"
#include "util/error.h"
#include "util/paths.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

// Files that travel with the weights and that optipfair does not rewrite.
const char* const kCompanionFiles[] = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                                       "special_tokens_map.json", "generation_config.json"};

DType stored_type(const Tensor& t, const SaveOptions& options) {
  if (options.dtype) return *options.dtype;
  // Block-quantised tensors (from GGUF) widen exactly into F32; safetensors has no block types.
  return dtype_is_quantized(t.dtype) ? DType::F32 : t.dtype;
}

struct EntryList {
  const SaveOptions& options;
  std::vector<SafetensorsEntry> entries;

  void add(const std::string& name, const Tensor& t, std::vector<int64_t> shape = {}) {
    if (!t.present()) throw Error("the model has no tensor for " + name);
    entries.push_back({name, stored_type(t, options), shape.empty() ? t.shape : std::move(shape), t});
  }
  void add_optional(const std::string& name, const Tensor& t) {
    if (t.present()) add(name, t);
  }
  // One stored tensor of several row blocks (Phi-3's fused projections), each padded to `rows`
  // rows (0: its own).
  void add_fused(const std::string& name, std::vector<Tensor> parts, int64_t rows, int64_t cols) {
    int64_t total = 0;
    for (const Tensor& t : parts) {
      if (!t.present()) throw Error("the model has no tensor for part of " + name);
      total += rows > 0 ? rows : t.rows();
    }
    SafetensorsEntry e{name, stored_type(parts.front(), options), {total, cols}, Tensor{}};
    e.parts = std::move(parts);
    e.part_rows = rows;
    entries.push_back(std::move(e));
  }
};

// transformers' Llama-family names. Narrower MLP layers are zero-padded to the widest one: the
// padded neurons have zero gate, up and down weights, so they add exactly nothing to the output.
std::vector<SafetensorsEntry> hf_entries(const Model& model, int64_t widest, const SaveOptions& options) {
  EntryList list{options, {}};
  const ModelConfig& c = model.config;
  list.add("model.embed_tokens.weight", model.tok_embeddings);
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const LayerWeights& l = model.layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    list.add(p + "input_layernorm.weight", l.attn_norm);
    if (c.fused_projections()) {
      list.add_fused(p + "self_attn.qkv_proj.weight", {l.wq, l.wk, l.wv}, 0, l.wq.cols());
    } else {
      list.add(p + "self_attn.q_proj.weight", l.wq);
      list.add_optional(p + "self_attn.q_proj.bias", l.bq);
      list.add(p + "self_attn.k_proj.weight", l.wk);
      list.add_optional(p + "self_attn.k_proj.bias", l.bk);
      list.add(p + "self_attn.v_proj.weight", l.wv);
      list.add_optional(p + "self_attn.v_proj.bias", l.bv);
    }
    list.add(p + "self_attn.o_proj.weight", l.wo);
    list.add_optional(p + "self_attn.q_norm.weight", l.q_norm);
    list.add_optional(p + "self_attn.k_norm.weight", l.k_norm);
    list.add(p + hf_pre_mlp_norm_name(c) + ".weight", l.ffn_norm);
    if (c.post_norms()) {
      list.add(p + "post_attention_layernorm.weight", l.attn_post_norm);
      list.add(p + "post_feedforward_layernorm.weight", l.ffn_post_norm);
    }
    const int64_t hidden = l.w_gate.cols();
    if (c.fused_projections()) {
      list.add_fused(p + "mlp.gate_up_proj.weight", {l.w_gate, l.w_up}, widest, hidden);
    } else {
      list.add(p + "mlp.gate_proj.weight", l.w_gate, {widest, hidden});
      list.add(p + "mlp.up_proj.weight", l.w_up, {widest, hidden});
    }
    list.add(p + "mlp.down_proj.weight", l.w_down, {l.w_down.rows(), widest});
  }
  list.add("model.norm.weight", model.final_norm);
  if (!c.tie_word_embeddings) list.add("lm_head.weight", model.lm_head);
  return list.entries;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error("could not write " + file.string());
}

// Groups tensors into files of at most max_bytes (a tensor larger than that gets a file alone).
std::vector<std::vector<SafetensorsEntry>> shard(std::vector<SafetensorsEntry> entries, uint64_t max_bytes) {
  std::vector<std::vector<SafetensorsEntry>> shards(1);
  uint64_t current = 0;
  for (auto& e : entries) {
    uint64_t bytes = safetensors_entry_bytes(e);
    if (!shards.back().empty() && current + bytes > max_bytes) {
      shards.emplace_back();
      current = 0;
    }
    current += bytes;
    shards.back().push_back(std::move(e));
  }
  return shards;
}

std::string shard_name(size_t index, size_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return name;
}

void write_weights(const Model& model, const fs::path& dir, int64_t widest, const SaveOptions& options) {
  auto shards = shard(hf_entries(model, widest, options), std::max<uint64_t>(options.max_shard_bytes, 1));
  if (shards.size() == 1) {
    safetensors_write(dir / "model.safetensors", shards[0]);
    return;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t total = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    std::string name = shard_name(i, shards.size());
    for (const auto& e : shards[i]) {
      weight_map[e.name] = name;
      total += safetensors_entry_bytes(e);
    }
    safetensors_write(dir / name, shards[i]);
  }
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  write_text(dir / "model.safetensors.index.json", index.dump(2) + "\n");
}

void write_folder(const Model& model, const fs::path& dir, const SaveOptions& options) {
  ModelConfig c = model.config;
  c.num_hidden_layers = static_cast<int64_t>(model.layers.size());
  c.intermediate_sizes.clear();
  for (const auto& l : model.layers) c.intermediate_sizes.push_back(l.intermediate_size());
  int64_t widest = 0;
  for (int64_t w : c.intermediate_sizes) widest = std::max(widest, w);
  c.intermediate_size = widest;
  c.dtype = stored_type(model.tok_embeddings, options);
  write_text(dir / "config.json", config_to_hf_json(c).dump(2) + "\n");

  write_weights(model, dir, widest, options);

  std::error_code ec;
  if (!model.source.empty() && fs::is_directory(model.source, ec)) {
    for (const char* name : kCompanionFiles) {
      fs::path from = model.source / name;
      if (fs::is_regular_file(from, ec)) fs::copy_file(from, dir / name, fs::copy_options::overwrite_existing);
    }
  }
}

fs::path normalised(const fs::path& dir) {
  fs::path d = fs::absolute(dir).lexically_normal();
  if (d.filename().empty()) d = d.parent_path();
  return d;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

}  // namespace

void save_hf_model(const Model& model, const fs::path& dir_in, const SaveOptions& options) {
  if (options.dtype && dtype_is_quantized(*options.dtype))
    throw Error(std::string("safetensors stores F32, F16 or BF16 tensors, not ") + dtype_name(*options.dtype));
  const fs::path dir = normalised(dir_in);
  if (!model.source.empty() && path_same_or_inside(model.source, dir))
    throw Error("refusing to write over the model's own files in " + dir.string() +
                "; choose another output folder");
  std::error_code ec;
  const bool exists = fs::exists(fs::symlink_status(dir, ec));
  if (exists && !options.overwrite && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    throw Error("output " + dir.string() + " already exists and is not empty; choose another folder or allow overwriting");

  const std::string pid = std::to_string(::getpid());
  const fs::path tmp = dir.parent_path() / (dir.filename().string() + ".tmp-" + pid);
  try {
    fs::create_directories(dir.parent_path());
    remove_quietly(tmp);
    fs::create_directory(tmp);
    write_folder(model, tmp, options);
    if (!exists) {
      fs::rename(tmp, dir);
    } else if (fs::is_directory(dir) && fs::is_empty(dir)) {
      fs::rename(tmp, dir);  // rename(2) replaces an empty folder
    } else {
      // Keep the old output until the new one is in place, so a failure loses nothing.
      const fs::path old = dir.parent_path() / (dir.filename().string() + ".old-" + pid);
      remove_quietly(old);
      fs::rename(dir, old);
      try {
        fs::rename(tmp, dir);
      } catch (...) {
        fs::rename(old, dir, ec);
        throw;
      }
      remove_quietly(old);
    }
  } catch (const Error& e) {
    remove_quietly(tmp);
    // Name the folder the user asked for, not the temporary one being written.
    std::string message = e.what();
    for (size_t at = message.find(tmp.string()); at != std::string::npos; at = message.find(tmp.string(), at))
      message.replace(at, tmp.string().size(), dir.string());
    throw Error(message);
  } catch (const fs::filesystem_error& e) {
    remove_quietly(tmp);
    throw Error("could not save the model to " + dir.string() + ": " + e.code().message());
  } catch (const std::exception& e) {
    remove_quietly(tmp);
    throw Error("could not save the model to " + dir.string() + ": " + e.what());
  }
}

}  // namespace optipfair
