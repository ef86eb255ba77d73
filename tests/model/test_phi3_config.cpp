// Phi-3 configs as transformers reads them (LongRope, partial rotation, the window) and its fused
// projections as views: q, k, v from qkv_proj, gate and up from gate_up_proj; saved back fused.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/load_model.h"
#include "io/model_formats.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/rope.h"
#include "model/synthetic.h"
#include "test_support.h"

namespace optipfair {
namespace {

using nlohmann::json;

TEST(Phi3Config, MiniShapeAndLongRope) {
  const ModelConfig mini = config_from_hf_json(synthetic_hf_config("phi-3-mini", DType::BF16));
  EXPECT_EQ(mini.model_type, ModelType::Phi3);
  EXPECT_TRUE(mini.fused_projections());
  EXPECT_EQ(mini.sliding_window, 2047);
  EXPECT_EQ(mini.rope_dim(), 96);
  EXPECT_FALSE(mini.tie_word_embeddings);

  const ModelConfig c = config_from_hf_json(synthetic_hf_config("tiny-phi3", DType::F32));
  EXPECT_EQ(c.rotary_dim, 24);  // 0.75 of 32
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::LongRope);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 256);
  // transformers: sqrt(1 + ln(2048 / 256) / ln(256)) when no attention_factor is given.
  EXPECT_NEAR(c.rope_scaling.attention_factor, std::sqrt(1 + std::log(8.0) / std::log(256.0)), 1e-12);
  EXPECT_FLOAT_EQ(rope_attention_factor(c), static_cast<float>(c.rope_scaling.attention_factor));
  // Short factors up to the original context, long ones past it.
  const std::vector<float> s = rope_inv_freq_for(c, 256), l = rope_inv_freq_for(c, 257);
  ASSERT_EQ(s.size(), 12u);
  for (size_t j = 0; j < 12; ++j) {
    const double base = std::pow(10000.0, 2.0 * static_cast<double>(j) / 24.0);
    EXPECT_NEAR(s[j], 1.0 / ((1.0 + 0.05 * static_cast<double>(j)) * base), 1e-6 * s[j]);
    EXPECT_NEAR(l[j], 1.0 / ((1.5 + 0.4 * static_cast<double>(j)) * base), 1e-6 * l[j]);
  }
  // Written back as transformers reads it.
  const json out = config_to_hf_json(c);
  EXPECT_EQ(out["architectures"][0], "Phi3ForCausalLM");
  EXPECT_EQ(out["rope_scaling"]["type"], "longrope");
  EXPECT_EQ(out["rope_scaling"]["long_factor"].size(), 12u);
  EXPECT_EQ(out["original_max_position_embeddings"], 256);
  EXPECT_EQ(out["partial_rotary_factor"], 0.75);
}

TEST(Phi3Config, BadLongRopeAndRotationAreOneSentence) {
  json j = synthetic_hf_config("tiny-phi3", DType::F32);
  j["rope_scaling"]["long_factor"] = json::array({1.0, 2.0});
  EXPECT_NE(test::error_of([&] { config_from_hf_json(j); }).find("needs 12 each"), std::string::npos);
  j = synthetic_hf_config("tiny-phi3", DType::F32);
  j["rope_scaling"].erase("short_factor");
  EXPECT_NE(test::error_of([&] { config_from_hf_json(j); }).find("no list 'short_factor'"), std::string::npos);
  j = synthetic_hf_config("tiny-phi3", DType::F32);
  j["rope_scaling"]["short_factor"][3] = -1.0;
  EXPECT_NE(test::error_of([&] { config_from_hf_json(j); }).find("must be a positive number"), std::string::npos);
  j = synthetic_hf_config("tiny-phi3", DType::F32);
  j["partial_rotary_factor"] = 1.5;
  EXPECT_NE(test::error_of([&] { config_from_hf_json(j); }).find("partial_rotary_factor"), std::string::npos);
  j = synthetic_hf_config("tiny-phi3", DType::F32);
  j["partial_rotary_factor"] = 0.1;  // 3.2 dimensions: 3, odd
  EXPECT_NE(test::error_of([&] { config_from_hf_json(j); }).find("even number"), std::string::npos);
}

TEST(Phi3Weights, FusedTensorsAreViewsAndSavedFused) {
  test::ScratchDir dir;
  const Model m = make_synthetic_model("tiny-phi3", DType::BF16, 3);
  const LayerWeights& l = m.layers[0];
  // Views into one qkv_proj and one gate_up_proj: consecutive rows.
  EXPECT_EQ(static_cast<const uint8_t*>(l.wk.data), l.wq.row_data(l.wq.rows()));
  EXPECT_EQ(static_cast<const uint8_t*>(l.wv.data), l.wk.row_data(l.wk.rows()));
  EXPECT_EQ(static_cast<const uint8_t*>(l.w_up.data), l.w_gate.row_data(l.w_gate.rows()));
  save_hf_model(m, dir / "hf");
  const SafetensorsFile f = SafetensorsFile::open(dir / "hf" / "model.safetensors");
  EXPECT_TRUE(f.has("model.layers.0.self_attn.qkv_proj.weight"));
  EXPECT_TRUE(f.has("model.layers.0.mlp.gate_up_proj.weight"));
  EXPECT_FALSE(f.has("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_FALSE(f.has("model.layers.0.mlp.gate_proj.weight"));
  EXPECT_EQ(f.tensors().at("model.layers.0.self_attn.qkv_proj.weight").shape, (std::vector<int64_t>{256, 128}));
  EXPECT_EQ(f.tensors().at("model.layers.0.mlp.gate_up_proj.weight").shape, (std::vector<int64_t>{256, 128}));
  EXPECT_TRUE(f.has("lm_head.weight"));  // untied, as Phi-3
}

TEST(Phi3Weights, FusedTensorOfTheWrongSizeIsNamed) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny-phi3", DType::F32, 3);
  save_hf_model(m, dir / "hf");
  // The config claims more key/value heads than the fused tensor holds.
  json cfg = json::parse(std::ifstream(dir / "hf" / "config.json"));
  cfg["num_key_value_heads"] = 4;
  std::ofstream(dir / "hf" / "config.json") << cfg.dump();
  EXPECT_NE(test::error_of([&] { load_model((dir / "hf").string()); })
                .find("fused tensor 'model.layers.0.self_attn.qkv_proj.weight' has 256 rows but the config's q, k and v need 384"),
            std::string::npos);
}

}  // namespace
}  // namespace optipfair
