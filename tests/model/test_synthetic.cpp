// Synthetic models: real checkpoints' shapes (checked against their published parameter counts),
// deterministic random weights with the intended spread.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "kernels/matmul.h"
#include "model/synthetic.h"
#include "util/error.h"

namespace optipfair {
namespace {

int64_t parameter_count(const ModelConfig& c) {
  const int64_t H = c.hidden_size;
  int64_t per_layer = H * c.q_dim() * 2 + H * c.kv_dim() * 2 + 2 * H + 3 * H * c.intermediate_size;
  if (c.attention_bias) per_layer += c.q_dim() + 2 * c.kv_dim();
  if (c.qk_norm) per_layer += 2 * c.head_dim;
  return c.vocab_size * H * (c.tie_word_embeddings ? 1 : 2) + H + per_layer * c.num_hidden_layers;
}

// Parameter counts as the model cards and transformers report them.
TEST(Synthetic, PresetsHaveTheRealModelsShapes) {
  EXPECT_EQ(parameter_count(config_from_hf_json(synthetic_hf_config("llama-3.2-1b", DType::BF16))), 1235814400);
  EXPECT_EQ(parameter_count(config_from_hf_json(synthetic_hf_config("smollm2-135m", DType::BF16))), 134515008);
  EXPECT_EQ(parameter_count(config_from_hf_json(synthetic_hf_config("qwen2.5-0.5b", DType::BF16))), 494032768);
  EXPECT_EQ(parameter_count(config_from_hf_json(synthetic_hf_config("qwen3-0.6b", DType::BF16))), 596049920);

  ModelConfig llama = config_from_hf_json(synthetic_hf_config("llama-3.2-1b", DType::BF16));
  EXPECT_EQ(llama.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(llama.rope_scaling.factor, 32.0);
  EXPECT_EQ(llama.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(llama.rope_theta, 500000.0);
  EXPECT_TRUE(llama.tie_word_embeddings);
  ModelConfig qwen3 = config_from_hf_json(synthetic_hf_config("qwen3-0.6b", DType::BF16, 3));
  EXPECT_EQ(qwen3.num_hidden_layers, 3);
  EXPECT_EQ(qwen3.head_dim, 128);
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_TRUE(config_from_hf_json(synthetic_hf_config("qwen2.5-0.5b", DType::BF16)).attention_bias);
  EXPECT_THROW(synthetic_hf_config("gpt-9", DType::BF16), Error);
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.contiguous() && b.contiguous() &&
         std::memcmp(a.data, b.data, a.nbytes()) == 0;
}

TEST(Synthetic, DeterministicPerSeedAndPerTensorName) {
  Model a = make_synthetic_model("tiny", DType::BF16, 7);
  Model b = make_synthetic_model("tiny", DType::BF16, 7);
  Model c = make_synthetic_model("tiny", DType::BF16, 8);
  Model one = make_synthetic_model("tiny", DType::BF16, 7, 1);
  ASSERT_EQ(a.layers.size(), 2u);
  ASSERT_EQ(one.layers.size(), 1u);
  EXPECT_TRUE(same_bytes(a.tok_embeddings, b.tok_embeddings));
  EXPECT_TRUE(same_bytes(a.layers[1].w_down, b.layers[1].w_down));
  EXPECT_FALSE(same_bytes(a.tok_embeddings, c.tok_embeddings));
  EXPECT_FALSE(same_bytes(a.layers[0].wq, a.layers[1].wq));
  // A truncated model is the first layers of the full one.
  EXPECT_TRUE(same_bytes(a.layers[0].w_gate, one.layers[0].w_gate));
  EXPECT_TRUE(same_bytes(a.lm_head, one.lm_head));
  EXPECT_NO_THROW(model_validate(a));
  EXPECT_EQ(a.format, "synthetic");
}

void expect_spread(const Tensor& t, double mean, double sd) {
  ASSERT_EQ(t.dtype, DType::F32);
  const float* v = static_cast<const float*>(t.data);
  double s = 0, s2 = 0;
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    s += v[i];
    s2 += static_cast<double>(v[i]) * v[i];
  }
  const double m = s / n, var = s2 / n - m * m;
  EXPECT_NEAR(m, mean, 4 * sd / std::sqrt(static_cast<double>(n)) + 1e-4) << t.name;
  EXPECT_NEAR(std::sqrt(var), sd, 0.05 * sd) << t.name;
}

TEST(Synthetic, WeightsHaveTheIntendedSpread) {
  Model m = make_synthetic_model("smollm2-135m", DType::F32, 3, 1);
  expect_spread(m.tok_embeddings, 0.0, 0.02);
  expect_spread(m.layers[0].w_up, 0.0, 0.02);
  expect_spread(m.layers[0].attn_norm, 1.0, 0.02);
  EXPECT_EQ(m.lm_head.data, m.tok_embeddings.data);  // tied
  // Gemma stores norms as offsets from 1: about 0 on disk, about 1 as applied.
  Model g = make_synthetic_model("tiny-gemma3", DType::F32, 3);
  for (const Tensor* t : {&g.layers[0].attn_norm, &g.layers[0].ffn_post_norm, &g.layers[0].q_norm, &g.final_norm})
    for (int64_t i = 0; i < t->numel(); ++i) ASSERT_LT(std::fabs(static_cast<const float*>(t->data)[i]), 0.1f) << t->name;
}

TEST(Synthetic, EveryPresetBuildsAValidModel) {
  // The big presets' embeddings alone take seconds in a debug build: their shapes are checked
  // above through their configs, and by the benchmarks in full.
  for (const char* preset : {"tiny", "tiny-qwen2", "tiny-qwen3", "tiny-gemma", "tiny-gemma2", "tiny-gemma3",
                             "tiny-phi3", "smollm2-135m"}) {
    Model m = make_synthetic_model(preset, DType::BF16, 1, 1);
    EXPECT_NO_THROW(model_validate(m)) << preset;
    EXPECT_EQ(m.layers.size(), 1u);
  }
}

// Block types: matrices quantised (widths that are not whole blocks take llama.cpp's fallback),
// norms float32; Q4_K_M puts the LM head and attn_v / ffn_down of llama.cpp's layers in Q6_K; the
// values are the float32 model's, quantised.
TEST(Synthetic, QuantisedWeightsAndTheMediumMixture) {
  const Model f = make_synthetic_model("tiny-k", DType::F32, 4);
  const Model q = make_synthetic_model("tiny-k", synthetic_weights_from_name("Q4_K_M"), 4);
  EXPECT_NO_THROW(model_validate(q));
  EXPECT_EQ(q.layers[0].attn_norm.dtype, DType::F32);
  EXPECT_EQ(q.tok_embeddings.dtype, DType::Q4_K);
  EXPECT_EQ(q.lm_head.dtype, DType::Q6_K);
  for (int64_t l = 0; l < 8; ++l) {
    const bool more = l == 0 || l == 3 || l == 6 || l == 7;  // use_more_bits(l, 8)
    const LayerWeights& w = q.layers[static_cast<size_t>(l)];
    EXPECT_EQ(w.wv.dtype, more ? DType::Q6_K : DType::Q4_K) << l;
    EXPECT_EQ(w.w_down.dtype, more ? DType::Q6_K : DType::Q4_K) << l;
    EXPECT_EQ(w.wq.dtype, DType::Q4_K) << l;
    EXPECT_EQ(w.w_up.dtype, DType::Q4_K) << l;
  }
  std::vector<float> row(256);
  dequantize_row(row.data(), q.layers[2].w_gate.matrix(), 5);
  const float* orig = static_cast<const float*>(f.layers[2].w_gate.data) + 5 * 256;
  for (int i = 0; i < 256; ++i) ASSERT_NEAR(row[static_cast<size_t>(i)], orig[i], 0.01) << i;  // half a Q4_K step at sd 0.02

  // tiny is 64 wide: a Q4_K row would be a quarter of a super-block, so llama.cpp's Q5_0 instead.
  const Model t = make_synthetic_model("tiny", synthetic_weights_from_name("q4_k"), 4);
  EXPECT_EQ(t.layers[0].wq.dtype, DType::Q5_0);
  EXPECT_EQ(synthetic_weights_from_name("q5_k_m").mixture, QuantMixture::Medium);
  EXPECT_EQ(synthetic_weights_from_name("Q8_0").dtype, DType::Q8_0);
  EXPECT_THROW(synthetic_weights_from_name("q3_k"), Error);
}

}  // namespace
}  // namespace optipfair
