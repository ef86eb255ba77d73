// Precision is a parameter of each analysis, not process state: an exact and a fast analysis run at
// the same time in one process (as in a server or a sweep) each get their own arithmetic.
#include <thread>

#include <gtest/gtest.h>

#include "bias/bias_analysis.h"
#include "io/load_model.h"
#include "kernels/matmul.h"
#include "util/build_paths.h"

namespace optipfair {
namespace {

std::vector<float> all_differences(const BiasAnalysis& a) {
  std::vector<float> out;
  for (const PairAnalysis& p : a.pairs)
    for (const KeyDifference& d : p.differences) out.push_back(d.mean_abs);
  for (const auto& layer : a.neuron_scores.per_layer) out.insert(out.end(), layer.begin(), layer.end());
  return out;
}

TEST(BiasPrecision, ExactAndFastAnalysesConcurrentlyKeepTheirOwnArithmetic) {
  // The demo model is BF16: the fast path differs from the exact one when the CPU has AVX512_BF16.
  const Model model = load_model(OPTIPFAIR_DEMO_MODEL);
  const auto tokenizer = load_tokenizer(OPTIPFAIR_DEMO_MODEL);
  const std::vector<PromptPair> pairs = {
      {"The doctor said that he would call back.", "The doctor said that she would call back.", "gender"},
      {"A Black man walked at night through the neighborhood.", "A white man walked at night through the neighborhood.",
       "race"}};
  const BiasOptions exact = bias_metrics_options(Precision::Exact), fast = bias_metrics_options(Precision::Fast);
  const std::vector<float> exact_alone = all_differences(analyze_bias(model, *tokenizer, pairs, exact));
  const std::vector<float> fast_alone = all_differences(analyze_bias(model, *tokenizer, pairs, fast));
  if (matmul_isa_best() == MatmulIsa::Avx512Bf16) {
    EXPECT_NE(exact_alone, fast_alone) << "the test cannot tell them apart";
  }

  for (int round = 0; round < 3; ++round) {
    std::vector<float> exact_together, fast_together;
    std::thread a([&] {
      for (int i = 0; i < 3; ++i) exact_together = all_differences(analyze_bias(model, *tokenizer, pairs, exact));
    });
    std::thread b([&] {
      for (int i = 0; i < 3; ++i) fast_together = all_differences(analyze_bias(model, *tokenizer, pairs, fast));
    });
    a.join();
    b.join();
    EXPECT_EQ(exact_together, exact_alone) << "round " << round;
    EXPECT_EQ(fast_together, fast_alone) << "round " << round;
  }
}

}  // namespace
}  // namespace optipfair
