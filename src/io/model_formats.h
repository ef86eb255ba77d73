// One loader and one saver per on-disk format. io/load_model.cpp picks among the loaders.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "io/gguf_writer.h"
#include "model/model.h"

namespace optipfair {

// Hugging Face folder: config.json + model.safetensors or model.safetensors.index.json shards.
Model load_hf_model(const std::filesystem::path& dir);
// GGUF file (llama-family arch): Q/K rows are un-permuted to the rotate-half layout.
Model load_gguf_model(const std::filesystem::path& file);
// llama2.c checkpoint (v0 legacy float32 format, and v1/v2 headers where present).
Model load_llama2c_model(const std::filesystem::path& file);

struct SaveOptions {
  std::optional<DType> dtype;   // default: each tensor's current type (F32, F16 or BF16)
  bool overwrite = false;       // refuse an existing destination unless set
  uint64_t max_shard_bytes = 5'000'000'000;  // HF folders: split above this (transformers' default)
  GgufMetadata gguf_metadata;   // GGUF: more keys (the vocabulary), written after the model's own
};
// Writes a Hugging Face folder (config.json, model.safetensors, tokenizer/generation files copied
// from model.source when it is a folder). Atomic: written beside as a temporary, then renamed.
void save_hf_model(const Model& model, const std::filesystem::path& dir, const SaveOptions& options = {});
// Writes a GGUF v3 file: arch `llama` when all layers have one width, `deci` otherwise.
void save_gguf_model(const Model& model, const std::filesystem::path& file, const SaveOptions& options = {});

// Resolves a Hugging Face model id ("org/name", optional "@revision") to a snapshot folder in the
// user's cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub), downloading the files a
// model needs when it is not there and allow_download is set. Throws Error when it cannot.
std::filesystem::path resolve_hf_model_id(const std::string& id, bool allow_download);
// True when `s` looks like an id ("org/name") rather than a path that exists.
bool looks_like_hf_model_id(const std::string& s);

}  // namespace optipfair
