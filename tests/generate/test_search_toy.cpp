// Search logic on hand-made logits sources: beam search against brute force, the early-stopping
// rules on a crafted case, sampling statistics, seeds, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "generate/generate.h"
#include "util/error.h"

namespace optipfair {
namespace {

// Pseudo-random but fixed logits for every history (a hash of it seeds the generator).
std::vector<float> hashed_logits(std::span<const int32_t> history, int64_t vocab) {
  uint64_t h = 1469598103934665603ull;
  for (int32_t t : history) h = (h ^ static_cast<uint64_t>(t + 1)) * 1099511628211ull;
  std::mt19937_64 rng(h);
  std::vector<float> row(static_cast<size_t>(vocab));
  for (float& v : row) v = static_cast<float>(static_cast<double>(rng() % 10000) / 10000.0 * 4.0 - 2.0);
  return row;
}

std::vector<double> log_softmax_double(const std::vector<float>& row) {
  double top = *std::max_element(row.begin(), row.end()), sum = 0;
  for (float v : row) sum += std::exp(v - top);
  std::vector<double> out;
  for (float v : row) out.push_back(v - top - std::log(sum));
  return out;
}

struct Complete {
  std::vector<int32_t> tokens;
  double score;
};

// Every sequence the model can produce: each stops at EOS or after max_new tokens.
// no_repeat bans follow the rule's definition, written out independently here.
void enumerate(std::vector<int32_t>& seq, size_t prompt_len, int64_t max_new, int64_t vocab, int32_t eos,
               int64_t no_repeat, double sum, double length_penalty, std::vector<Complete>& out) {
  std::vector<double> lp = log_softmax_double(hashed_logits(seq, vocab));
  for (int32_t t = 0; t < vocab; ++t) {
    if (no_repeat > 0 && static_cast<int64_t>(seq.size()) + 1 >= no_repeat) {
      std::vector<int32_t> gram(seq.end() - (no_repeat - 1), seq.end());
      gram.push_back(t);
      bool seen = false;
      for (size_t i = 0; i + static_cast<size_t>(no_repeat) <= seq.size(); ++i)
        seen = seen || std::equal(gram.begin(), gram.end(), seq.begin() + static_cast<std::ptrdiff_t>(i));
      if (seen) continue;
    }
    seq.push_back(t);
    const double s = sum + lp[static_cast<size_t>(t)];
    const int64_t generated = static_cast<int64_t>(seq.size() - prompt_len);
    if (t == eos || generated == max_new)
      out.push_back({seq, s / std::pow(static_cast<double>(generated), length_penalty)});
    else
      enumerate(seq, prompt_len, max_new, vocab, eos, no_repeat, s, length_penalty, out);
    seq.pop_back();
  }
}

struct ToyCase {
  double length_penalty;
  EarlyStopping early_stopping;
  int64_t no_repeat;
};

class BeamVersusBruteForce : public ::testing::TestWithParam<ToyCase> {};

// With vocab 4 and 4 new tokens there are at most 3^3 running prefixes and 121 complete
// sequences; with 256 beams transformers' beam search never prunes anything, so its finished
// list must be the brute-force ranking.
TEST_P(BeamVersusBruteForce, FinishedHypothesesEqualExhaustiveRanking) {
  const ToyCase tc = GetParam();
  const int64_t vocab = 4, max_new = 4;
  const int32_t eos = 3;
  const std::vector<std::vector<int32_t>> prompts = {{0, 1}};
  std::vector<Complete> all;
  std::vector<int32_t> seq = prompts[0];
  enumerate(seq, prompts[0].size(), max_new, vocab, eos, tc.no_repeat, 0.0, tc.length_penalty, all);
  std::stable_sort(all.begin(), all.end(), [](const Complete& a, const Complete& b) { return a.score > b.score; });
  ASSERT_GT(all.size(), 10u);
  ASSERT_GT(all[0].score - all[1].score, 1e-4) << "the toy must not have a near-tie at the top";

  FunctionLogitsSource source(vocab, [&](std::span<const int32_t> h) { return hashed_logits(h, vocab); });
  GenerationConfig c;
  c.num_beams = 256;
  c.max_new_tokens = max_new;
  c.eos_token_ids = {eos};
  c.length_penalty = tc.length_penalty;
  c.early_stopping = tc.early_stopping;
  c.no_repeat_ngram_size = tc.no_repeat;
  c.num_return_sequences = static_cast<int64_t>(all.size());
  const auto results = generate(source, prompts, c);
  ASSERT_EQ(results.size(), 1u);
  const auto& got = results[0].sequences;
  ASSERT_EQ(got.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_NEAR(got[i].score, all[i].score, 1e-5) << "rank " << i;
    const bool apart_below = i + 1 == all.size() || all[i].score - all[i + 1].score > 1e-4;
    const bool apart_above = i == 0 || all[i - 1].score - all[i].score > 1e-4;
    if (apart_below && apart_above) {
      EXPECT_EQ(got[i].tokens, all[i].tokens) << "rank " << i;
    }
  }
  EXPECT_EQ(got[0].ended_with_eos, all[0].tokens.back() == eos);
  // One call for the prompt, then one per step with every beam in it.
  EXPECT_EQ(source.feed_calls(), max_new);
}

INSTANTIATE_TEST_SUITE_P(Variants, BeamVersusBruteForce,
                         ::testing::Values(ToyCase{1.0, EarlyStopping::True, 0}, ToyCase{1.0, EarlyStopping::False, 0},
                                           ToyCase{1.0, EarlyStopping::Never, 0}, ToyCase{0.0, EarlyStopping::True, 0},
                                           ToyCase{2.0, EarlyStopping::True, 0}, ToyCase{-0.5, EarlyStopping::False, 0},
                                           ToyCase{1.0, EarlyStopping::True, 2}, ToyCase{0.5, EarlyStopping::Never, 3}));

// A = 0, B = 1, EOS = 2; prompt {0}. After step 2 two hypotheses are finished: [EOS] and
// [A, EOS] (-1.155 / 2). early_stopping=True stops there; False sees that the running beam
// [B, A] (-1.396, at best -1.396 / 2 > -0.916) may still win, and it does: [B, A, EOS] scores
// -1.406 / 3 = -0.469.
std::vector<float> crafted(std::span<const int32_t> h) {
  auto probs = [](float a, float b, float e) { return std::vector<float>{std::log(a), std::log(b), std::log(e)}; };
  const std::vector<int32_t> gen(h.begin() + 1, h.end());
  if (gen.empty()) return probs(0.35f, 0.25f, 0.40f);
  if (gen == std::vector<int32_t>{0}) return probs(0.05f, 0.05f, 0.90f);
  if (gen == std::vector<int32_t>{1}) return probs(0.98f, 0.01f, 0.01f);
  if (gen == std::vector<int32_t>{1, 0}) return probs(0.005f, 0.005f, 0.99f);
  return probs(0.3f, 0.3f, 0.4f);
}

TEST(BeamSearchEarlyStopping, TrueStopsAtTheFirstFullSetFalseKeepsSearching) {
  const std::vector<std::vector<int32_t>> prompts = {{0}};
  GenerationConfig c;
  c.num_beams = 2;
  c.max_new_tokens = 5;
  c.eos_token_ids = {2};
  c.num_return_sequences = 2;

  FunctionLogitsSource s1(3, crafted);
  c.early_stopping = EarlyStopping::True;
  auto r = generate(s1, prompts, c);
  EXPECT_EQ(r[0].sequences[0].tokens, (std::vector<int32_t>{0, 0, 2}));
  EXPECT_NEAR(r[0].sequences[0].score, (std::log(0.35) + std::log(0.9)) / 2, 1e-5);
  EXPECT_EQ(r[0].sequences[1].tokens, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(s1.feed_calls(), 2);

  FunctionLogitsSource s2(3, crafted);
  c.early_stopping = EarlyStopping::False;
  r = generate(s2, prompts, c);
  EXPECT_EQ(r[0].sequences[0].tokens, (std::vector<int32_t>{0, 1, 0, 2}));
  EXPECT_NEAR(r[0].sequences[0].score, (std::log(0.25) + std::log(0.98) + std::log(0.99)) / 3, 1e-5);
  EXPECT_EQ(r[0].sequences[1].tokens, (std::vector<int32_t>{0, 0, 2}));
  EXPECT_TRUE(r[0].sequences[0].ended_with_eos);

  // length_penalty 0 scores by the plain sum: the one-token [EOS] (log 0.4) wins.
  FunctionLogitsSource s3(3, crafted);
  c.length_penalty = 0.0;
  r = generate(s3, prompts, c);
  EXPECT_EQ(r[0].sequences[0].tokens, (std::vector<int32_t>{0, 2}));
}

TEST(Greedy, StopsAtEosAndAtMaxLength) {
  FunctionLogitsSource source(3, crafted);
  GenerationConfig c;
  c.eos_token_ids = {2};
  c.max_length = 10;
  auto r = generate(source, std::vector<std::vector<int32_t>>{{0}}, c);
  EXPECT_EQ(r[0].sequences[0].tokens, (std::vector<int32_t>{0, 2}));  // EOS is the first argmax
  EXPECT_TRUE(r[0].sequences[0].ended_with_eos);
  EXPECT_NEAR(r[0].sequences[0].score, std::log(0.4), 1e-6);
  c.eos_token_ids = {};
  c.max_length = 4;
  r = generate(source, std::vector<std::vector<int32_t>>{{0}}, c);
  EXPECT_EQ(r[0].sequences[0].tokens.size(), 4u);
  EXPECT_FALSE(r[0].sequences[0].ended_with_eos);
}

TEST(Greedy, StreamsEveryTokenOnce) {
  FunctionLogitsSource source(4, [](std::span<const int32_t> h) { return hashed_logits(h, 4); });
  GenerationConfig c;
  c.max_new_tokens = 6;
  std::vector<int32_t> streamed;
  auto r = generate(source, std::vector<std::vector<int32_t>>{{1, 2}}, c,
                    [&](size_t prompt, int32_t t) {
                      EXPECT_EQ(prompt, 0u);
                      streamed.push_back(t);
                    });
  EXPECT_EQ(streamed, std::vector<int32_t>(r[0].sequences[0].tokens.begin() + 2, r[0].sequences[0].tokens.end()));
}

std::map<int32_t, int> first_token_counts(const GenerationConfig& c, const std::vector<float>& probs) {
  FunctionLogitsSource source(static_cast<int64_t>(probs.size()), [&](std::span<const int32_t>) {
    std::vector<float> row;
    for (float p : probs) row.push_back(std::log(p));
    return row;
  });
  std::map<int32_t, int> counts;
  const auto results = generate(source, std::vector<std::vector<int32_t>>{{0}}, c);
  for (const auto& s : results[0].sequences) ++counts[s.tokens[1]];
  return counts;
}

TEST(Sampling, FollowsTheDistributionAfterTemperatureAndFilters) {
  GenerationConfig c;
  c.do_sample = true;
  c.max_new_tokens = 1;
  c.num_return_sequences = 20000;
  c.seed = 7;
  const std::vector<float> probs = {0.5f, 0.3f, 0.2f};
  auto counts = first_token_counts(c, probs);
  EXPECT_NEAR(counts[0] / 20000.0, 0.5, 0.015);
  EXPECT_NEAR(counts[1] / 20000.0, 0.3, 0.015);
  EXPECT_NEAR(counts[2] / 20000.0, 0.2, 0.015);
  c.temperature = 0.5;  // p^2 renormalised: 0.658, 0.237, 0.105
  counts = first_token_counts(c, probs);
  EXPECT_NEAR(counts[0] / 20000.0, 0.25 / 0.38, 0.015);
  EXPECT_NEAR(counts[2] / 20000.0, 0.04 / 0.38, 0.015);
  c.temperature = 1.0;
  c.top_k = 2;
  counts = first_token_counts(c, probs);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[0] / 20000.0, 0.625, 0.015);
  c.top_k = 0;
  c.top_p = 0.5;  // cumulative from the bottom 0.2, 0.5, 1.0: only the top token survives
  counts = first_token_counts(c, probs);
  EXPECT_EQ(counts[0], 20000);
}

TEST(Sampling, SameSeedSameTextOtherSeedOtherText) {
  auto run = [](uint64_t seed) {
    FunctionLogitsSource source(8, [](std::span<const int32_t> h) { return hashed_logits(h, 8); });
    GenerationConfig c;
    c.do_sample = true;
    c.seed = seed;
    c.max_new_tokens = 40;
    c.num_return_sequences = 2;
    std::vector<std::vector<int32_t>> out;
    for (auto& r : generate(source, std::vector<std::vector<int32_t>>{{1}, {2, 3}}, c))
      for (auto& s : r.sequences) out.push_back(s.tokens);
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  const auto a = run(42);
  EXPECT_NE(a[0], a[1]);  // two samples of one prompt differ
}

TEST(BadInput, ClearErrors) {
  FunctionLogitsSource source(4, [](std::span<const int32_t> h) { return hashed_logits(h, 4); });
  const std::vector<std::vector<int32_t>> ok = {{0, 1, 2}};
  GenerationConfig c;
  auto expect_error = [&](const std::vector<std::vector<int32_t>>& prompts, const GenerationConfig& cfg,
                          const std::string& needle) {
    try {
      generate(source, prompts, cfg);
      ADD_FAILURE() << "no error; expected one mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error({{}}, c, "no tokens");
  expect_error({{0, 9}}, c, "outside the model's vocabulary");
  c.max_length = 3;
  expect_error(ok, c, "max_length 3 leaves no room");
  c.max_length = 2;
  expect_error(ok, c, "max_length 2 leaves no room");
  c = {};
  c.num_beams = 0;
  expect_error(ok, c, "num_beams must be at least 1");
  c = {};
  c.num_beams = 2;
  c.num_return_sequences = 3;
  expect_error(ok, c, "cannot exceed num_beams");
  c = {};
  c.do_sample = true;
  c.temperature = 0;
  expect_error(ok, c, "temperature");
  c = {};
  c.top_p = 1.5;
  expect_error(ok, c, "top_p");
  c = {};
  c.num_return_sequences = 2;
  expect_error(ok, c, "greedy search returns one sequence");
  EXPECT_THROW(early_stopping_from_string("sometimes"), Error);
  EXPECT_EQ(early_stopping_from_string("Never"), EarlyStopping::Never);
}

}  // namespace
}  // namespace optipfair
