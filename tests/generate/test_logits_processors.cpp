// Hand-computed expectations for Hugging Face's logits processors and warpers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "generate/logits_processors.h"

namespace optipfair {
namespace {

const float kInf = std::numeric_limits<float>::infinity();

TEST(RepetitionPenalty, DividesPositiveAndMultipliesNegativeOncePerToken) {
  std::vector<float> s = {2.0f, -2.0f, 1.0f, 0.5f};
  const std::vector<int32_t> seq = {0, 1, 1};  // token 1 twice: still penalised once
  repetition_penalty_apply(s, seq, 2.0);
  EXPECT_EQ(s, (std::vector<float>{1.0f, -4.0f, 1.0f, 0.5f}));
}

TEST(RepetitionPenalty, OneIsANoOpAndBelowOneRewards) {
  std::vector<float> s = {2.0f, -2.0f};
  repetition_penalty_apply(s, std::vector<int32_t>{0, 1}, 1.0);
  EXPECT_EQ(s, (std::vector<float>{2.0f, -2.0f}));
  repetition_penalty_apply(s, std::vector<int32_t>{0, 1}, 0.5);
  EXPECT_EQ(s, (std::vector<float>{4.0f, -1.0f}));
}

TEST(NoRepeatNGram, BansTokensCompletingASeenNGram) {
  const std::vector<int32_t> seq = {1, 2, 3, 1, 2};
  EXPECT_EQ(no_repeat_ngram_banned(seq, 3), (std::vector<int32_t>{3}));
  EXPECT_EQ(no_repeat_ngram_banned(seq, 2), (std::vector<int32_t>{3}));  // "2" was followed by 3 only
  const std::vector<int32_t> seq2 = {1, 2, 1, 3, 1};
  EXPECT_EQ(no_repeat_ngram_banned(seq2, 2), (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(no_repeat_ngram_banned(seq2, 1), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(no_repeat_ngram_banned(seq2, 4).empty());  // (3, 1) + ? : the trigram 3 1 x never occurred
  EXPECT_TRUE(no_repeat_ngram_banned(std::vector<int32_t>{1, 2}, 4).empty());  // too short to repeat anything
  EXPECT_TRUE(no_repeat_ngram_banned(seq2, 0).empty());
}

TEST(NoRepeatNGram, SetsBannedScoresToMinusInfinity) {
  std::vector<float> s = {0.1f, 0.2f, 0.3f, 0.4f};
  no_repeat_ngram_apply(s, std::vector<int32_t>{1, 2, 1, 3, 1}, 2);
  // The sequence ends in 1, which was followed by 2 and by 3 before.
  EXPECT_EQ(s, (std::vector<float>{0.1f, 0.2f, -kInf, -kInf}));
}

TEST(TopK, KeepsTheKLargestAndTiesAtTheCut) {
  std::vector<float> s = {1, 2, 3, 4};
  top_k_apply(s, 2);
  EXPECT_EQ(s, (std::vector<float>{-kInf, -kInf, 3, 4}));
  std::vector<float> t = {1, 3, 3, 4};
  top_k_apply(t, 2);
  EXPECT_EQ(t, (std::vector<float>{-kInf, 3, 3, 4}));
  std::vector<float> u = {1, 2};
  top_k_apply(u, 5);  // larger than the vocabulary: nothing removed
  EXPECT_EQ(u, (std::vector<float>{1, 2}));
  top_k_apply(u, 0);  // off
  EXPECT_EQ(u, (std::vector<float>{1, 2}));
}

TEST(TopP, DropsTheUnlikelyTailWhoseMassStaysBelowOneMinusP) {
  auto logits = [] {
    return std::vector<float>{std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)};
  };
  std::vector<float> s = logits();
  top_p_apply(s, 0.5);  // cumulative from the bottom: 0.1, 0.3, 0.6, 1.0; removed where <= 0.5
  EXPECT_EQ(s[0], -kInf);
  EXPECT_EQ(s[1], -kInf);
  EXPECT_NE(s[2], -kInf);
  EXPECT_NE(s[3], -kInf);
  s = logits();
  top_p_apply(s, 0.75);  // removed where <= 0.25: only the 0.1 token
  EXPECT_EQ(s[0], -kInf);
  EXPECT_NE(s[1], -kInf);
  s = logits();
  top_p_apply(s, 0.0);  // keeps at least one token: the most likely
  EXPECT_EQ(s[3], std::log(0.4f));
  EXPECT_EQ(s[2], -kInf);
  s = logits();
  top_p_apply(s, 1.0);
  EXPECT_EQ(s, logits());
}

TEST(Temperature, DividesTheLogits) {
  std::vector<float> s = {1, -2, 4};
  temperature_apply(s, 0.5);
  EXPECT_EQ(s, (std::vector<float>{2, -4, 8}));
}

TEST(LogSoftmax, NormalisesAndKeepsFilteredEntries) {
  std::vector<float> s = {std::log(0.25f), std::log(0.75f), -kInf};
  log_softmax_apply(s);
  EXPECT_NEAR(s[0], std::log(0.25), 1e-6);
  EXPECT_NEAR(s[1], std::log(0.75), 1e-6);
  EXPECT_EQ(s[2], -kInf);
  EXPECT_EQ(argmax(s), 1);
  EXPECT_EQ(argmax(std::vector<float>{3, 5, 5}), 1);  // the first on ties
}

}  // namespace
}  // namespace optipfair
