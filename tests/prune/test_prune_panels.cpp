// A cut of a model that multiplies from panels is packed too (prune/apply.h): its fast logits are
// bit for bit those of the same cut made from the unpacked model and packed afterwards, so before
// and after a cut run the same kernels. A cut of an unpacked model stays unpacked.
#include <cstring>

#include <gtest/gtest.h>

#include "model/forward.h"
#include "model/panels.h"
#include "model/synthetic.h"
#include "prune/apply.h"

namespace optipfair {
namespace {

const std::vector<int32_t> kTokens = {1, 17, 29, 3, 41, 5, 60, 7};

// Every other neuron of layer 0, the first two thirds of the others.
std::vector<std::vector<int64_t>> kept_neurons(const Model& m) {
  std::vector<std::vector<int64_t>> kept(m.layers.size());
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const int64_t I = m.layers[l].intermediate_size();
    for (int64_t i = 0; i < I; ++i)
      if (l == 0 ? i % 2 == 0 : i < 2 * I / 3) kept[l].push_back(i);
  }
  return kept;
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

TEST(PrunePanels, ACutOfAPackedModelIsPackedAsIfPackedAfterwards) {
  if (matmul_isa() < MatmulIsa::Avx512Bf16) GTEST_SKIP() << "CPU lacks AVX512_BF16: panels are not used";
  for (const auto& [preset, type] : {std::pair{"tiny", DType::BF16}, std::pair{"tiny-k", DType::Q8_0},
                                     std::pair{"tiny-k", DType::Q5_1}, std::pair{"tiny-k", DType::Q4_K}}) {
    SCOPED_TRACE(dtype_name(type));
    Model packed = make_synthetic_model(preset, type, 8);
    const Model unpacked = make_synthetic_model(preset, type, 8);
    ASSERT_GT(model_pack_panels(packed), 0u);
    const auto kept = kept_neurons(unpacked);
    for (PruneMode mode : {PruneMode::Remove, PruneMode::Zero}) {
      SCOPED_TRACE(prune_mode_name(mode));
      const Model cut = mode == PruneMode::Remove ? apply_kept_neurons(packed, kept) : zero_pruned_neurons(packed, kept);
      EXPECT_TRUE(model_has_panels(cut));
      for (const LayerWeights& w : cut.layers) {
        EXPECT_NE(w.w_gate.matrix().panels, nullptr);
        EXPECT_NE(w.w_up.matrix().panels, nullptr);
        if (type == DType::BF16) {
          EXPECT_NE(w.w_down.matrix().panels, nullptr);  // a cut block-type down is F32
        }
      }
      Model later = mode == PruneMode::Remove ? apply_kept_neurons(unpacked, kept) : zero_pruned_neurons(unpacked, kept);
      EXPECT_FALSE(model_has_panels(later));
      model_pack_panels(later);
      expect_same_bits(forward_tokens(cut, kTokens), forward_tokens(later, kTokens));
    }
  }
}

TEST(PrunePanels, ACutOfAnUnpackedModelStaysUnpacked) {
  const Model m = make_synthetic_model("tiny", DType::BF16, 9);
  EXPECT_FALSE(model_has_panels(apply_kept_neurons(m, kept_neurons(m))));
  EXPECT_FALSE(model_has_panels(zero_pruned_neurons(m, kept_neurons(m))));
}

}  // namespace
}  // namespace optipfair
