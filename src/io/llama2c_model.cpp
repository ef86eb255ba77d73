// Karpathy's llama2.c checkpoints: a small int32 header, then raw float32 weights in a fixed order.
#include <cstdlib>
#include <cstring>

#include "io/mapped_file.h"
#include "io/model_formats.h"
#include "io/qk_permute.h"
#include "util/error.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kLlama2cMagic = 0x616b3432;  // "ak42", written little-endian by export.py
constexpr size_t kV1HeaderBytes = 256;

struct Llama2cHeader {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Hands out consecutive float32 tensors from the mapping, in file order.
class WeightCursor {
 public:
  WeightCursor(const MappedFile& f, size_t start) : f_(f), pos_(start) {}
  Tensor take(const std::string& name, std::vector<int64_t> shape) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = std::move(shape);
    t.data = f_.data() + pos_;
    pos_ += t.nbytes();
    return t;
  }
  // Layer l of a stacked [L, ...] array starting at the current position; call advance_stack after.
  Tensor take_layer(const std::string& name, int64_t l, std::vector<int64_t> shape) {
    Tensor t;
    t.name = name + "[" + std::to_string(l) + "]";
    t.dtype = DType::F32;
    t.shape = std::move(shape);
    t.data = f_.data() + pos_ + static_cast<size_t>(l) * t.nbytes();
    return t;
  }
  void skip(size_t bytes) { pos_ += bytes; }
  size_t pos() const { return pos_; }

 private:
  const MappedFile& f_;
  size_t pos_;
};

}  // namespace

Model load_llama2c_model(const fs::path& file) {
  auto mapped = MappedFile::open(file);
  const std::string name = file.string();
  if (mapped->size() < sizeof(Llama2cHeader))
    throw Error(name + " is too small to be a llama2.c checkpoint");

  uint32_t magic;
  std::memcpy(&magic, mapped->data(), 4);
  int version = 0;
  bool shared = false;
  Llama2cHeader h{};
  size_t start = 0;
  if (magic == kLlama2cMagic) {
    if (mapped->size() < kV1HeaderBytes) throw Error(name + " is truncated inside its llama2.c header");
    int32_t v;
    std::memcpy(&v, mapped->data() + 4, 4);
    if (v != 1)
      throw Error(name + " is a llama2.c version " + std::to_string(v) +
                  " checkpoint; only the float32 formats (legacy and version 1) are supported");
    version = 1;
    std::memcpy(&h, mapped->data() + 8, sizeof(h));
    shared = mapped->data()[8 + sizeof(h)] != 0;
    start = kV1HeaderBytes;
  } else {
    std::memcpy(&h, mapped->data(), sizeof(h));
    // The legacy format marks an untied classifier with a negative vocabulary size.
    shared = h.vocab_size > 0;
    start = sizeof(h);
  }
  // Bounds keep every size product below 2^62, so the file-size check cannot overflow.
  auto check = [&](int64_t value, int64_t limit, const char* field) {
    if (value <= 0 || value > limit)
      throw Error(name + " has llama2.c header field " + field + " = " + std::to_string(value) +
                  ", outside 1.." + std::to_string(limit));
  };
  constexpr int64_t kMaxSize = int64_t{1} << 20;
  check(h.dim, kMaxSize, "dim");
  check(h.hidden_dim, kMaxSize, "hidden_dim");
  check(h.n_layers, 4096, "n_layers");
  check(h.n_heads, kMaxSize, "n_heads");
  check(h.n_kv_heads, kMaxSize, "n_kv_heads");
  // Widened before negating: -INT32_MIN does not fit an int32.
  const int64_t vocab_size = version == 0 ? std::abs(int64_t{h.vocab_size}) : int64_t{h.vocab_size};
  if (vocab_size <= 0 || vocab_size > kMaxSize)
    throw Error(name + " has llama2.c header field vocab_size = " + std::to_string(h.vocab_size) + ", outside 1.." +
                std::to_string(kMaxSize) + (version == 0 ? " (or its negative, marking an untied classifier)" : ""));
  check(h.seq_len, kMaxSize, "seq_len");
  if (h.dim % h.n_heads != 0 || h.n_heads % h.n_kv_heads != 0 || (h.dim / h.n_heads) % 2 != 0)
    throw Error(name + " has a llama2.c header whose dim " + std::to_string(h.dim) + ", n_heads " +
                std::to_string(h.n_heads) + " and n_kv_heads " + std::to_string(h.n_kv_heads) +
                " do not divide into even heads");

  const int64_t D = h.dim, F = h.hidden_dim, L = h.n_layers, V = vocab_size;
  const int64_t hd = D / h.n_heads, kv = hd * h.n_kv_heads;
  int64_t floats = V * D + L * (2 * D + D * D + 2 * D * kv + D * D + 3 * D * F) + D;
  if (version == 0) floats += static_cast<int64_t>(h.seq_len) * hd;  // freq_cis real + imag halves
  if (!shared) floats += V * D;
  const uint64_t expected = start + static_cast<uint64_t>(floats) * 4;
  if (mapped->size() != expected)
    throw Error(name + " has " + std::to_string(mapped->size()) + " bytes but its llama2.c header implies " +
                std::to_string(expected) + (mapped->size() < expected ? " (truncated)" : ""));

  ModelConfig c;
  c.model_type = ModelType::Llama;
  c.vocab_size = V;
  c.hidden_size = D;
  c.num_hidden_layers = L;
  c.num_attention_heads = h.n_heads;
  c.num_key_value_heads = h.n_kv_heads;
  c.head_dim = hd;
  c.intermediate_size = F;
  c.intermediate_sizes.assign(static_cast<size_t>(L), F);
  c.max_position_embeddings = h.seq_len;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.tie_word_embeddings = shared;
  c.bos_token_id = 1;  // llama2.c's sentencepiece vocabularies
  c.eos_token_ids = {2};
  c.dtype = DType::F32;
  config_validate(c);

  Model m;
  m.source = file;
  m.format = "llama2c";
  m.storage.push_back(mapped);
  m.mappings.emplace_back(mapped->data(), mapped->size());
  m.layers.resize(static_cast<size_t>(L));
  WeightCursor cur(*mapped, start);
  // Stacked per-layer arrays: assigns layer views of one [L, shape] block, then moves past it.
  auto stack = [&](const char* what, Tensor LayerWeights::*field, std::vector<int64_t> shape) {
    for (int64_t l = 0; l < L; ++l) m.layers[static_cast<size_t>(l)].*field = cur.take_layer(what, l, shape);
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    cur.skip(static_cast<size_t>(L * n) * 4);
  };
  if (version == 0) {
    m.tok_embeddings = cur.take("token_embedding_table", {V, D});
    stack("rms_att_weight", &LayerWeights::attn_norm, {D});
    stack("wq", &LayerWeights::wq, {D, D});
    stack("wk", &LayerWeights::wk, {kv, D});
    stack("wv", &LayerWeights::wv, {kv, D});
    stack("wo", &LayerWeights::wo, {D, D});
    stack("rms_ffn_weight", &LayerWeights::ffn_norm, {D});
    stack("w1", &LayerWeights::w_gate, {F, D});
    stack("w2", &LayerWeights::w_down, {D, F});
    stack("w3", &LayerWeights::w_up, {F, D});
    m.final_norm = cur.take("rms_final_weight", {D});
    cur.skip(static_cast<size_t>(h.seq_len) * static_cast<size_t>(hd) * 4);  // freq_cis: recomputed instead
  } else {
    stack("attention_norm", &LayerWeights::attn_norm, {D});
    stack("ffn_norm", &LayerWeights::ffn_norm, {D});
    m.final_norm = cur.take("norm", {D});
    m.tok_embeddings = cur.take("tok_embeddings", {V, D});
    stack("wq", &LayerWeights::wq, {D, D});
    stack("wk", &LayerWeights::wk, {kv, D});
    stack("wv", &LayerWeights::wv, {kv, D});
    stack("wo", &LayerWeights::wo, {D, D});
    stack("w1", &LayerWeights::w_gate, {F, D});
    stack("w2", &LayerWeights::w_down, {D, F});
    stack("w3", &LayerWeights::w_up, {F, D});
  }
  m.lm_head = shared ? m.tok_embeddings : cur.take("wcls", {V, D});
  // llama2.c rotates adjacent pairs; the forward pass expects Hugging Face's rotate-half rows.
  for (LayerWeights& w : m.layers) {
    w.wq = qk_to_half_copy(m, w.wq, h.n_heads, hd);
    w.wk = qk_to_half_copy(m, w.wk, h.n_kv_heads, hd);
  }
  m.config = std::move(c);
  model_validate(m);
  return m;
}

}  // namespace optipfair
