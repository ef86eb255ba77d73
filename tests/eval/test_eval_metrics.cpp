// Every metric formula on cases worked out by hand.
#include <cmath>

#include <gtest/gtest.h>

#include "eval/metrics.h"

namespace optipfair {
namespace {

TEST(EvalMetrics, MeanAndStderrAsLmEval) {
  // {1, 0, 1, 1}: mean 0.75; sample variance ((.25^2)*3 + .75^2) / 3 = 0.25; stderr sqrt(.25)/2.
  const std::vector<double> xs = {1, 0, 1, 1};
  EXPECT_DOUBLE_EQ(mean(xs), 0.75);
  EXPECT_DOUBLE_EQ(sample_stddev(xs), 0.5);
  EXPECT_DOUBLE_EQ(mean_stderr(xs), 0.25);
  EXPECT_TRUE(std::isnan(mean_stderr({1.0})));  // lm-eval prints N/A for one item
}

TEST(EvalMetrics, Perplexities) {
  EXPECT_DOUBLE_EQ(perplexity({-1.0, -3.0}), std::exp(2.0));
  // Two documents: ll -10 over 4 words and -6 over 4 words: exp(16 / 8).
  EXPECT_DOUBLE_EQ(weighted_perplexity({{-10, 4}, {-6, 4}}), std::exp(2.0));
  // -sum(ll) / bytes / ln 2: 16 nats over 8 bytes = 2 nats/byte = 2/ln2 bits.
  EXPECT_DOUBLE_EQ(bits_per_byte({{-10, 4}, {-6, 4}}), 2.0 / std::log(2.0));
}

TEST(EvalMetrics, ArgmaxAndNormalizedChoice) {
  EXPECT_EQ(argmax_first({-3, -1, -1}), 1u);  // first of the tied best, as numpy
  // Raw: choice 0 (-4 > -6); per character: -4/2 = -2 < -6/6 = -1 so choice 1.
  EXPECT_EQ(argmax_first({-4, -6}), 0u);
  EXPECT_EQ(argmax_normalized({-4, -6}, {2, 6}), 1u);
}

TEST(EvalMetrics, BootstrapOfAConstantIsZeroAndOfAMeanNearTheFormula) {
  auto mean_of = [](const std::vector<double>& xs) {
    return [&xs](const std::vector<size_t>& idx) {
      double s = 0;
      for (size_t i : idx) s += xs[i];
      return s / static_cast<double>(idx.size());
    };
  };
  const std::vector<double> same(10, 2.0);
  EXPECT_DOUBLE_EQ(bootstrap_stderr(same.size(), mean_of(same), 200, 1), 0.0);
  std::vector<double> xs;
  for (int i = 0; i < 200; ++i) xs.push_back(i % 2);
  // The bootstrap stderr of a mean approaches the population sd / sqrt(n) = 0.5 / sqrt(200).
  const double se = bootstrap_stderr(xs.size(), mean_of(xs), 2000, 7);
  EXPECT_NEAR(se, 0.5 / std::sqrt(200.0), 0.004);
  EXPECT_TRUE(std::isnan(bootstrap_stderr(1, mean_of(xs), 100, 1)));
}

TEST(EvalMetrics, BbqBiasScoresByHand) {
  // Disambiguated: 3 non-unknown answers, 2 biased: S_DIS = 2 * 2/3 - 1 = 1/3.
  // Ambiguous: 4 items, 1 correct (acc .25); non-unknown 3, biased 3: S_DIS' = 1; S_AMB = .75.
  std::vector<BbqOutcome> items = {
      {1, 1, 1, true}, {0, 1, 1, true}, {1, 0, 1, true}, {1, 0, 0, true},
      {1, 0, 0, false}, {0, 1, 1, false}, {0, 1, 1, false}, {0, 1, 1, false},
  };
  EXPECT_NEAR(bbq_disamb_bias_score(items), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(bbq_amb_bias_score(items), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(bbq_accuracy(items, true), 0.75);
  EXPECT_DOUBLE_EQ(bbq_accuracy(items, false), 0.25);
  // No biased answer at all reads as 0 (lm-eval), no item of a kind as NaN.
  EXPECT_DOUBLE_EQ(bbq_disamb_bias_score({{1, 0, 0, true}}), 0.0);
  EXPECT_TRUE(std::isnan(bbq_amb_bias_score({{1, 0, 0, true}})));
  EXPECT_TRUE(std::isnan(bbq_disamb_bias_score({{1, 0, 0, false}})));
}

}  // namespace
}  // namespace optipfair
