// A random-weight model whose vocabulary fits a given tokenizer, for task tests that need
// chance-level numbers (the "tiny" synthetic shape with its embedding tables widened).
#pragma once
#include <cstdint>
#include <random>

#include "model/synthetic.h"

namespace optipfair::test {

inline Model synthetic_model_for_vocab(int64_t vocab, uint64_t seed) {
  Model m = make_synthetic_model("tiny", DType::F32, seed);
  const int64_t H = m.config.hidden_size;
  m.config.vocab_size = vocab;
  m.config.raw["vocab_size"] = vocab;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  auto table = [&](const char* name) {
    Tensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = {vocab, H};
    auto* p = static_cast<float*>(m.allocate(static_cast<size_t>(vocab * H) * sizeof(float)));
    for (int64_t i = 0; i < vocab * H; ++i) p[i] = normal(rng);
    t.data = p;
    return t;
  };
  m.tok_embeddings = table("model.embed_tokens.weight");
  m.lm_head = table("lm_head.weight");
  return m;
}

}  // namespace optipfair::test
