// Internal consistency of the forward pass: incremental decoding with the KV cache, batching of
// several sequences, and capture, all agree with one plain pass. (Agreement with independent
// implementations is in tests/integration.)
#include <cmath>

#include <gtest/gtest.h>

#include "io/load_model.h"
#include "model/capture.h"
#include "model/forward.h"
#include "model/model.h"
#include "util/error.h"
#include "test_support.h"

namespace optipfair {
namespace {

const std::vector<int32_t> kA = {1, 317, 263, 377, 267, 265, 282, 295, 433, 426, 338};
const std::vector<int32_t> kB = {1, 346, 410, 293, 261, 297, 425, 420, 372, 426};

class Stories : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto p = test::shared_path("models/stories260K-hf");
    if (!std::filesystem::exists(p)) GTEST_SKIP() << "shared asset missing: " << p;
    model_ = std::make_unique<Model>(load_model(p.string()));
  }
  std::unique_ptr<Model> model_;
};

void expect_rows_near(const float* a, const float* b, int64_t n, float tol) {
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], tol * std::max(1.0f, std::fabs(b[i]))) << "at " << i;
}

TEST_F(Stories, IncrementalDecodingMatchesOnePass) {
  const int64_t V = model_->config.vocab_size;
  const auto full = forward_tokens(*model_, kA);
  KVCache cache(model_->config, 32);
  // 4 tokens, then one at a time.
  std::vector<float> last;
  SequenceInput first{std::span<const int32_t>(kA.data(), 4), &cache};
  auto l0 = forward(*model_, std::span<const SequenceInput>(&first, 1), LogitsMode::Last);
  expect_rows_near(l0.data(), &full[3 * V], V, 1e-5f);
  for (size_t i = 4; i < kA.size(); ++i) {
    SequenceInput step{std::span<const int32_t>(&kA[i], 1), &cache};
    auto li = forward(*model_, std::span<const SequenceInput>(&step, 1), LogitsMode::Last);
    expect_rows_near(li.data(), &full[static_cast<int64_t>(i) * V], V, 1e-5f);
  }
  EXPECT_EQ(cache.length(), static_cast<int64_t>(kA.size()));
}

TEST_F(Stories, BatchOfSequencesMatchesSeparatePasses) {
  const int64_t V = model_->config.vocab_size;
  const auto a = forward_tokens(*model_, kA);
  const auto b = forward_tokens(*model_, kB);
  KVCache ca(model_->config, 16), cb(model_->config, 16);
  std::vector<SequenceInput> batch = {{kA, &ca}, {kB, &cb}};
  const auto last = forward(*model_, batch, LogitsMode::Last);
  ASSERT_EQ(last.size(), static_cast<size_t>(2 * V));
  expect_rows_near(&last[0], &a[(kA.size() - 1) * V], V, 1e-5f);
  expect_rows_near(&last[V], &b[(kB.size() - 1) * V], V, 1e-5f);
}

TEST_F(Stories, CaptureIsPerSequenceAndDoesNotChangeLogits) {
  const auto plain = forward_tokens(*model_, kA);
  ActivationCapture cap({0, 4}, {Component::GateProj, Component::MlpOutput});
  KVCache ca(model_->config, 16), cb(model_->config, 16);
  std::vector<SequenceInput> batch = {{kA, &ca}, {kB, &cb}};
  const auto logits = forward(*model_, batch, LogitsMode::All, &cap);
  expect_rows_near(logits.data(), plain.data(), static_cast<int64_t>(plain.size()), 1e-5f);
  EXPECT_EQ(cap.get(0, 0, Component::GateProj).rows, static_cast<int64_t>(kA.size()));
  EXPECT_EQ(cap.get(1, 4, Component::GateProj).rows, static_cast<int64_t>(kB.size()));
  EXPECT_EQ(cap.get(1, 4, Component::GateProj).cols, 172);
  EXPECT_EQ(cap.get(0, 4, Component::MlpOutput).cols, 64);
  EXPECT_FALSE(cap.has(0, 2, Component::GateProj));
  EXPECT_FALSE(cap.has(0, 0, Component::UpProj));
}

TEST_F(Stories, TokenOutsideVocabularyIsAnError) {
  const std::vector<int32_t> bad = {1, 512};
  EXPECT_THROW(forward_tokens(*model_, bad), Error);
}

TEST_F(Stories, SequenceLongerThanItsCacheIsAnError) {
  KVCache cache(model_->config, 3);
  SequenceInput in{kA, &cache};
  EXPECT_THROW(forward(*model_, std::span<const SequenceInput>(&in, 1), LogitsMode::Last), Error);
}

TEST(LayerSelection, ParsesTheThreeForms) {
  EXPECT_EQ(parse_layer_selection("all", 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(parse_layer_selection("first_middle_last", 16), (std::vector<int>{0, 8, 15}));
  EXPECT_EQ(parse_layer_selection("7, 0,15,7", 16), (std::vector<int>{0, 7, 15}));
  EXPECT_EQ(parse_layer_selection("-1", 16), (std::vector<int>{15}));
  EXPECT_THROW(parse_layer_selection("16", 16), Error);
  EXPECT_THROW(parse_layer_selection("1,x", 16), Error);
  EXPECT_THROW(parse_layer_selection("", 16), Error);
}

TEST(Components, NamesRoundTripAndUnknownIsRefused) {
  for (Component c : kAllComponents) EXPECT_EQ(component_from_name(component_name(c)), c);
  EXPECT_EQ(activation_key(Component::GateProj, 3), "gate_proj_layer_3");
  EXPECT_THROW(component_from_name("attn"), Error);
}

}  // namespace
}  // namespace optipfair
