#include "model/model.h"

#include <cstdlib>

#include "util/error.h"
#include "util/large_alloc.h"

namespace optipfair {

namespace fs = std::filesystem;

void* Model::allocate(size_t bytes) {
  // Large tensors (pruned copies) sit on 2 MiB pages where the kernel allows it: filling 400 MB of
  // fresh 4 KiB pages costs ~100k page faults, which took most of a 1B-shaped model's prune time.
  void* p = large_alloc(bytes);
  if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
  storage.push_back(std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); }));
  return p;
}

void split_fused_qkv(LayerWeights& w, const Tensor& qkv, const ModelConfig& c) {
  const int64_t rows = c.q_dim() + 2 * c.kv_dim();
  if (qkv.shape.size() != 2 || qkv.shape[0] != rows)
    throw Error("fused tensor '" + qkv.name + "' has " + (qkv.shape.empty() ? std::string("no") : std::to_string(qkv.shape[0])) +
                " rows but the config's q, k and v need " + std::to_string(rows));
  w.wq = qkv.rows_view(0, c.q_dim());
  w.wk = qkv.rows_view(c.q_dim(), c.kv_dim());
  w.wv = qkv.rows_view(c.q_dim() + c.kv_dim(), c.kv_dim());
}

void split_fused_gate_up(LayerWeights& w, const Tensor& gate_up) {
  if (gate_up.shape.size() != 2 || gate_up.shape[0] % 2 != 0 || gate_up.shape[0] == 0)
    throw Error("fused tensor '" + gate_up.name + "' must hold the gate and up rows in two equal halves");
  const int64_t half = gate_up.shape[0] / 2;
  w.w_gate = gate_up.rows_view(0, half);
  w.w_up = gate_up.rows_view(half, half);
}

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

void check_shape(const Tensor& t, const std::string& what, std::vector<int64_t> expected) {
  if (!t.present()) throw Error("model has no " + what + " tensor");
  if (t.shape != expected)
    throw Error("tensor '" + (t.name.empty() ? what : t.name) + "' has shape " + shape_str(t.shape) +
                " but the config implies " + shape_str(expected));
  if (t.cols() % dtype_block_elements(t.dtype) != 0)
    throw Error("tensor '" + t.name + "' is " + dtype_name(t.dtype) + " but its rows are not a multiple of " +
                std::to_string(dtype_block_elements(t.dtype)));
}


}  // namespace

void model_validate(const Model& m) {
  const ModelConfig& c = m.config;
  config_validate(c);
  const int64_t H = c.hidden_size;
  if (static_cast<int64_t>(m.layers.size()) != c.num_hidden_layers)
    throw Error("model has " + std::to_string(m.layers.size()) + " layers but the config says " +
                std::to_string(c.num_hidden_layers));
  check_shape(m.tok_embeddings, "token embedding", {c.vocab_size, H});
  check_shape(m.lm_head, "lm_head", {c.vocab_size, H});
  check_shape(m.final_norm, "final norm", {H});
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const LayerWeights& w = m.layers[l];
    const std::string L = "layer " + std::to_string(l) + " ";
    const int64_t I = c.intermediate_sizes[l];
    check_shape(w.attn_norm, L + "input norm", {H});
    check_shape(w.wq, L + "q_proj", {c.q_dim(), H});
    check_shape(w.wk, L + "k_proj", {c.kv_dim(), H});
    check_shape(w.wv, L + "v_proj", {c.kv_dim(), H});
    check_shape(w.wo, L + "o_proj", {H, c.q_dim()});
    if (c.attention_bias) {
      check_shape(w.bq, L + "q_proj bias", {c.q_dim()});
      check_shape(w.bk, L + "k_proj bias", {c.kv_dim()});
      check_shape(w.bv, L + "v_proj bias", {c.kv_dim()});
    }
    if (c.qk_norm) {
      check_shape(w.q_norm, L + "q_norm", {c.head_dim});
      check_shape(w.k_norm, L + "k_norm", {c.head_dim});
    }
    check_shape(w.ffn_norm, L + "pre-MLP norm", {H});
    if (c.post_norms()) {
      check_shape(w.attn_post_norm, L + "post-attention norm", {H});
      check_shape(w.ffn_post_norm, L + "post-MLP norm", {H});
    }
    if (!w.w_gate.present())
      throw Error(L + "has no gate projection: optipfair needs a gated (GLU) MLP");
    check_shape(w.w_gate, L + "gate_proj", {I, H});
    check_shape(w.w_up, L + "up_proj", {I, H});
    check_shape(w.w_down, L + "down_proj", {H, I});
  }
}

}  // namespace optipfair
