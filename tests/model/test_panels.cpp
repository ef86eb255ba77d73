// model_pack_panels: in fast mode the forward pass multiplies from the packed panels (close to the
// rows in place; a generated token's logits are its row's in one pass), exact mode gives the same
// bits before and after packing (also once the mapped rows were dropped from memory), and a tensor
// pointed at other memory or cut to another shape (a pruned copy) stops using them.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "io/load_model.h"
#include "io/model_formats.h"
#include "model/forward.h"
#include "model/panels.h"
#include "model/synthetic.h"
#include "test_support.h"

namespace optipfair {
namespace {

const std::vector<int32_t> kTokens = {1, 17, 29, 3, 41, 5, 60, 7, 8, 90, 11, 12, 13};

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Packs m, checks that its fast logits stay within rel_tol * max|logit| of the rows in place, and
// that a generated token's logits are its row of the one pass.
void expect_panels_agree_with_rows_in_place(Model m, float rel_tol) {
  const std::vector<float> in_place = forward_tokens(m, kTokens);
  EXPECT_FALSE(model_has_panels(m));
  EXPECT_GT(model_pack_panels(m), 0u);
  EXPECT_TRUE(model_has_panels(m));
  ASSERT_NE(m.layers[0].wq.matrix().panels, nullptr);
  ASSERT_NE(m.layers.back().w_down.matrix().panels, nullptr);
  ASSERT_NE(m.lm_head.matrix().panels, nullptr);
  const size_t again = model_pack_panels(m);  // already packed: nothing new, the same total
  EXPECT_GT(again, 0u);
  const std::vector<float> packed = forward_tokens(m, kTokens);
  ASSERT_EQ(packed.size(), in_place.size());
  const float tol = rel_tol * max_abs(in_place);
  for (size_t i = 0; i < packed.size(); ++i) ASSERT_NEAR(packed[i], in_place[i], tol) << "at " << i;

  // Token by token after a prompt: each step's logits are its row of the one pass (the same
  // kernel reads the same panels whatever the number of rows).
  const int64_t V = m.config.vocab_size, n = static_cast<int64_t>(kTokens.size());
  KVCache cache(m.config, n);
  const std::vector<int32_t> prompt(kTokens.begin(), kTokens.begin() + 4);
  forward(m, std::vector<SequenceInput>{{prompt, &cache}}, LogitsMode::None);
  for (int64_t t = 4; t < n; ++t) {
    const int32_t tok = kTokens[static_cast<size_t>(t)];
    const std::vector<float> step = forward(m, std::vector<SequenceInput>{{std::span(&tok, 1), &cache}}, LogitsMode::Last);
    for (int64_t v = 0; v < V; ++v) ASSERT_NEAR(step[v], packed[t * V + v], 1e-5f * max_abs(packed)) << "t=" << t;
  }
}

// On AVX512_BF16, and on AVX2 and plain AVX-512 (float32 x there).
TEST(ModelPanels, FastLogitsFromPanelsAgreeWithRowsInPlace) {
  if (matmul_isa() < MatmulIsa::Avx2) GTEST_SKIP() << "CPU lacks AVX2: panels are not used";
  const MatmulIsa saved = matmul_isa();
  for (MatmulIsa isa : {MatmulIsa::Avx2, MatmulIsa::Avx512, MatmulIsa::Avx512Bf16}) {
    if (matmul_isa_best() < isa) continue;
    matmul_set_isa(isa);
    for (const char* preset : {"tiny", "tiny-phi3", "tiny-gemma3", "tiny-qwen2"}) {
      SCOPED_TRACE(std::string(matmul_isa_name(isa)) + " " + preset);
      // Only the float32 summation order differs, but a last-bit difference in an activation can
      // move its rounding to bf16 in the next product by a whole bf16 step (2^-8 relative).
      expect_panels_agree_with_rows_in_place(make_synthetic_model(preset, DType::BF16, 3), std::ldexp(1.0f, -8));
    }
  }
  matmul_set_isa(saved);
}

// Every block type (the 32-value ones in rows of whole 64-value pairs of blocks, as the integer
// path takes them): x is rounded to 8 bits the same way in place and from panels, so again only the
// summation order differs, and a last-bit difference can move an activation's 8-bit rounding by a
// step (2^-7 of its block's largest value).
TEST(ModelPanels, FastLogitsFromBlockPanelsAgreeWithRowsInPlace) {
  if (matmul_isa() < MatmulIsa::Avx512Bf16) GTEST_SKIP() << "CPU lacks AVX512_VNNI: panels are not used";
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    SCOPED_TRACE(dtype_name(t));
    expect_panels_agree_with_rows_in_place(make_synthetic_model("tiny-k", t, 3), std::ldexp(1.0f, -6));
  }
}

TEST(ModelPanels, ExactModeKeepsItsBitsAfterTheMappedRowsAreDropped) {
  test::ScratchDir dir;
  save_hf_model(make_synthetic_model("tiny", DType::BF16, 4), dir / "m");
  Model m = load_model((dir / "m").string());
  ASSERT_FALSE(m.mappings.empty());
  const std::vector<float> before = forward_tokens(m, kTokens, nullptr, Precision::Exact);
  model_pack_panels(m);
  const std::vector<float> after = forward_tokens(m, kTokens, nullptr, Precision::Exact);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * sizeof(float)));
}

TEST(ModelPanels, ACopyPointedElsewhereOrCutShorterMultipliesInPlace) {
  if (matmul_isa() < MatmulIsa::Avx512Bf16) GTEST_SKIP() << "CPU lacks AVX512_BF16: panels are not used";
  Model m = make_synthetic_model("tiny", DType::BF16, 5);
  model_pack_panels(m);
  const Tensor& gate = m.layers[0].w_gate;
  ASSERT_NE(gate.matrix().panels, nullptr);
  Tensor moved = gate;  // as pruning does: new memory, same shape
  std::vector<uint8_t> copy(gate.nbytes());
  std::memcpy(copy.data(), gate.data, copy.size());
  moved.data = copy.data();
  EXPECT_EQ(moved.matrix().panels, nullptr);
  Tensor cut = gate.rows_view(0, gate.rows() - 1);  // same start, fewer rows
  EXPECT_EQ(cut.matrix().panels, nullptr);
  Tensor narrower = gate;
  narrower.row_stride = gate.cols();
  narrower.shape.back() = gate.cols() - 2;  // a column slice: same start, other shape
  EXPECT_EQ(narrower.matrix().panels, nullptr);
}

// BF16 and every block type are packed (on a CPU with the panel kernels), float32 and float16 not.
TEST(ModelPanels, OtherTypesAndWeakerInstructionSetsPackNothing) {
  for (DType t : {DType::F32, DType::F16}) {
    Model q = make_synthetic_model("tiny", t, 6);
    EXPECT_EQ(model_pack_panels(q), 0u) << dtype_name(t);
    EXPECT_FALSE(model_has_panels(q)) << dtype_name(t);
  }
  if (matmul_isa() >= MatmulIsa::Avx512Bf16)
    for (DType t : {DType::Q4_1, DType::Q5_0, DType::Q5_1}) {
      Model q = make_synthetic_model("tiny-k", t, 6);
      EXPECT_GT(model_pack_panels(q), 0u) << dtype_name(t);
      EXPECT_TRUE(model_has_panels(q)) << dtype_name(t);
    }
  // Scalar code multiplies BF16 in place; AVX2 and plain AVX-512 pack BF16 but no block type.
  const MatmulIsa saved = matmul_isa();
  matmul_set_isa(MatmulIsa::Scalar);
  Model b = make_synthetic_model("tiny", DType::BF16, 6);
  EXPECT_EQ(model_pack_panels(b), 0u);
  EXPECT_EQ(b.layers[0].wq.matrix().panels, nullptr);
  EXPECT_FALSE(model_has_panels(b));
  for (MatmulIsa isa : {MatmulIsa::Avx2, MatmulIsa::Avx512}) {
    if (matmul_set_isa(isa) != isa) continue;  // a weaker CPU than this test's
    Model packed = make_synthetic_model("tiny", DType::BF16, 6);
    EXPECT_GT(model_pack_panels(packed), 0u) << matmul_isa_name(isa);
    EXPECT_TRUE(model_has_panels(packed));
    Model q = make_synthetic_model("tiny-k", DType::Q8_0, 6);
    EXPECT_EQ(model_pack_panels(q), 0u) << matmul_isa_name(isa);
  }
  matmul_set_isa(saved);
}

}  // namespace
}  // namespace optipfair
