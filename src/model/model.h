// A loaded model: its config, typed views on its weights, and what keeps that memory alive.
#pragma once
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/tensor.h"

namespace optipfair {

struct LayerWeights {
  Tensor attn_norm;               // [H]
  Tensor wq, wk, wv;              // [q_dim, H], [kv_dim, H], [kv_dim, H]; Q/K rows in rotate-half (HF) order
  Tensor bq, bk, bv;              // optional biases (Qwen2)
  Tensor q_norm, k_norm;          // optional per-head RMSNorm weights [head_dim] (Qwen3, Gemma 3)
  Tensor wo;                      // [H, q_dim]
  Tensor attn_post_norm;          // optional norm of o_proj's output [H] (Gemma 2/3)
  Tensor ffn_norm;                // [H], the norm before the MLP
  Tensor ffn_post_norm;           // optional norm of the MLP's output [H] (Gemma 2/3)
  Tensor w_gate, w_up;            // [I_l, H]
  Tensor w_down;                  // [H, I_l]

  int64_t intermediate_size() const { return w_gate.rows(); }
};

struct Model {
  ModelConfig config;
  Tensor tok_embeddings;          // [V, H]
  std::vector<LayerWeights> layers;
  Tensor final_norm;              // [H]
  Tensor lm_head;                 // [V, H]; the same memory as tok_embeddings when tied

  // Owners of the memory the tensors point into: mapped files and owned buffers.
  std::vector<std::shared_ptr<const void>> storage;
  // The read-only file mappings among them: pages there hold what the file holds, so they may be
  // dropped from memory and are read again when touched (model_pack_panels drops what it packed).
  std::vector<std::span<const uint8_t>> mappings;
  std::filesystem::path source;   // where it was loaded from
  std::string format;             // "safetensors", "gguf", "llama2c", "synthetic"

  // Makes an owned buffer of `bytes` bytes that lives as long as the model; returns it writable.
  void* allocate(size_t bytes);
};

// Phi-3's fused projections as views: q, k, v are consecutive row blocks of qkv_proj (throws Error
// when its rows disagree with the config); gate and up the two halves of gate_up_proj.
void split_fused_qkv(LayerWeights& w, const Tensor& qkv, const ModelConfig& c);
void split_fused_gate_up(LayerWeights& w, const Tensor& gate_up);

// Checks every tensor's presence and shape against the config; throws Error naming the first mismatch.
void model_validate(const Model& model);

}  // namespace optipfair
