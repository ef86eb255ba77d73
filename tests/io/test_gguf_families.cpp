// Gemma 1/2/3 and Phi-3 as GGUF, in the form llama.cpp's converter writes (arch gemma / gemma2 /
// gemma3: norms stored as the factors 1 + w, the layer pattern as a period, soft-caps, the sliding
// layers' RoPE base; phi3: fused attn_qkv and ffn_up, LongRope factor tensors, a partial rotation)
// and back: the same config, the same logits.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "io/model_formats.h"
#include "model/forward.h"
#include "model/synthetic.h"
#include "test_gguf_tensor_compare.h"
#include "test_support.h"

namespace optipfair {
namespace {

const std::vector<int32_t> kIds = {2, 17, 200, 3, 99, 45, 45, 7, 130, 250, 1, 64, 33, 18};

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

TEST(GgufGemma, EachFamilyRoundTripsWithLlamaCppKeysAndNorms) {
  for (const char* preset : {"tiny-gemma", "tiny-gemma2", "tiny-gemma3"}) {
    SCOPED_TRACE(preset);
    test::ScratchDir dir;
    const Model m = make_synthetic_model(preset, DType::F32, 7);
    const ModelConfig& c = m.config;
    save_gguf_model(m, dir / "g.gguf");
    const GgufFile g = GgufFile::open(dir / "g.gguf");
    const std::string arch = g.get_string("general.architecture");
    EXPECT_EQ(arch, c.model_type == ModelType::Gemma ? "gemma" : c.model_type == ModelType::Gemma2 ? "gemma2" : "gemma3");
    // Norms hold 1 + w, as llama.cpp multiplies by them directly.
    const GgufTensorInfo* norm = g.find_tensor("blk.0.attn_norm.weight");
    ASSERT_NE(norm, nullptr);
    EXPECT_FLOAT_EQ(static_cast<const float*>(norm->data)[3], 1.0f + test::tensor_at(m.layers[0].attn_norm, 3, 0));
    EXPECT_EQ(g.find_tensor("output.weight"), nullptr);  // tied
    EXPECT_EQ(g.find_tensor("blk.0.post_attention_norm.weight") != nullptr, c.post_norms());
    EXPECT_EQ(g.find_tensor("blk.0.post_ffw_norm.weight") != nullptr, c.post_norms());
    EXPECT_EQ(g.find_tensor("blk.0.attn_q_norm.weight") != nullptr, c.qk_norm);
    if (c.model_type == ModelType::Gemma2) {
      EXPECT_FLOAT_EQ(static_cast<float>(g.get_float("gemma2.attn_logit_softcapping")), 0.5f);
      EXPECT_FLOAT_EQ(static_cast<float>(g.get_float("gemma2.final_logit_softcapping")), 0.2f);
      EXPECT_EQ(g.get_int("gemma2.attention.sliding_window_pattern"), 2);
    }
    if (c.model_type == ModelType::Gemma3) {
      EXPECT_EQ(g.get_int("gemma3.attention.sliding_window"), 6);
      EXPECT_EQ(g.get_float("gemma3.rope.freq_base_swa"), 10000.0);
      EXPECT_EQ(g.get_float("gemma3.rope.freq_base"), 1e6);
    }
    EXPECT_FALSE(g.has("optipfair.query_pre_attn_scalar"));  // head_dim: what llama.cpp assumes

    const Model back = load_gguf_model(dir / "g.gguf");
    const ModelConfig& b = back.config;
    EXPECT_EQ(b.model_type, c.model_type);
    EXPECT_EQ(b.hidden_act, HiddenAct::GeluTanh);
    EXPECT_EQ(b.layer_types, c.layer_types);
    EXPECT_EQ(b.sliding_window, c.sliding_window);
    EXPECT_EQ(b.rope_local_theta, c.rope_local_theta);
    EXPECT_FLOAT_EQ(b.attention_scale(), c.attention_scale());
    EXPECT_FLOAT_EQ(static_cast<float>(b.attn_logit_softcapping), static_cast<float>(c.attn_logit_softcapping));
    EXPECT_FLOAT_EQ(static_cast<float>(b.final_logit_softcapping), static_cast<float>(c.final_logit_softcapping));
    EXPECT_LE(max_abs_diff(forward_tokens(back, kIds), forward_tokens(m, kIds)), 1e-5);
  }
}

TEST(GgufGemma, LayerKindsWithoutAPeriodAndAnOddQueryScaleUseOurKeys) {
  // A depth-pruned Gemma 3 whose layers are global, sliding, global: no period of llama.cpp's rule
  // gives that, so our key keeps the kinds; a query scalar other than head_dim likewise.
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny-gemma3", DType::BF16, 3);
  m.layers.erase(m.layers.begin());
  m.config.layer_types.erase(m.config.layer_types.begin());
  m.config.intermediate_sizes.erase(m.config.intermediate_sizes.begin());
  m.config.num_hidden_layers = 3;
  m.config.query_pre_attn_scalar = 24;
  save_gguf_model(m, dir / "p.gguf");
  const GgufFile g = GgufFile::open(dir / "p.gguf");
  EXPECT_FALSE(g.has("gemma3.attention.sliding_window_pattern"));
  EXPECT_EQ(g.get_int_array("optipfair.sliding_layers"), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(g.get_float("optipfair.query_pre_attn_scalar"), 24.0);
  const Model back = load_gguf_model(dir / "p.gguf");
  using LA = LayerAttention;
  EXPECT_EQ(back.config.layer_types, (std::vector<LA>{LA::Full, LA::Sliding, LA::Full}));
  EXPECT_EQ(back.config.query_pre_attn_scalar, 24.0);
  EXPECT_LE(max_abs_diff(forward_tokens(back, kIds), forward_tokens(m, kIds)), 1e-4);
}

TEST(GgufPhi3, FusedTensorsRopeFactorsAndPartialRotation) {
  test::ScratchDir dir;
  const Model m = make_synthetic_model("tiny-phi3", DType::BF16, 7);
  save_gguf_model(m, dir / "p.gguf");
  const GgufFile g = GgufFile::open(dir / "p.gguf");
  EXPECT_EQ(g.get_string("general.architecture"), "phi3");
  const GgufTensorInfo* qkv = g.find_tensor("blk.0.attn_qkv.weight");
  const GgufTensorInfo* up = g.find_tensor("blk.0.ffn_up.weight");
  ASSERT_NE(qkv, nullptr);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(qkv->shape, (std::vector<int64_t>{256, 128}));  // q (128) + k (64) + v (64) rows
  EXPECT_EQ(up->shape, (std::vector<int64_t>{256, 128}));   // gate (128) then up (128) rows
  EXPECT_EQ(g.find_tensor("blk.0.ffn_gate.weight"), nullptr);
  EXPECT_EQ(g.find_tensor("blk.0.attn_q.weight"), nullptr);
  EXPECT_EQ(g.get_int("phi3.rope.dimension_count"), 24);
  EXPECT_EQ(g.get_int("phi3.rope.scaling.original_context_length"), 256);
  EXPECT_FLOAT_EQ(static_cast<float>(g.get_float("phi3.rope.scaling.attn_factor")),
                  static_cast<float>(m.config.rope_scaling.attention_factor));
  EXPECT_EQ(g.get_int("phi3.attention.sliding_window"), 0);
  ASSERT_NE(g.find_tensor("rope_factors_long.weight"), nullptr);
  EXPECT_EQ(g.find_tensor("rope_factors_long.weight")->shape, (std::vector<int64_t>{12}));
  // The first rows of the fused tensors are q's and the gate's.
  EXPECT_EQ(std::memcmp(qkv->data, m.layers[0].wq.data, 128 * 2), 0);
  EXPECT_EQ(std::memcmp(static_cast<const uint8_t*>(up->data) + 128 * 128 * 2, m.layers[0].w_up.data, 128 * 2), 0);

  const Model back = load_gguf_model(dir / "p.gguf");
  EXPECT_EQ(back.config.rotary_dim, 24);
  EXPECT_EQ(back.config.rope_scaling.type, RopeScalingType::LongRope);
  EXPECT_EQ(back.config.rope_scaling.long_factor.size(), 12u);
  EXPECT_EQ(forward_tokens(back, kIds), forward_tokens(m, kIds));
}

TEST(GgufGemma, BadGemmaKeysAreOneSentence) {
  test::ScratchDir dir;
  Model m = make_synthetic_model("tiny-gemma3", DType::F32, 3);
  SaveOptions o;
  o.gguf_metadata.push_back({"optipfair.sliding_layers", gguf_int32_array({1, 0})});
  save_gguf_model(m, dir / "bad.gguf", o);
  EXPECT_NE(test::error_of([&] { load_gguf_model(dir / "bad.gguf"); }).find("optipfair.sliding_layers has 2 entries for 4 layers"),
            std::string::npos);
}

}  // namespace
}  // namespace optipfair
