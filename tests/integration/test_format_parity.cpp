// One set of weights, three file formats, one answer: stories260K as a llama2.c checkpoint, as a
// Hugging Face folder, and as a GGUF file written by our own saver.
#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "io/load_model.h"
#include "io/model_formats.h"
#include "model/forward.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "test_support.h"

namespace optipfair {
namespace {

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0, scale = 0;
  for (float f : b) scale = std::max(scale, std::fabs(static_cast<double>(f)));
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]) / scale);
  return worst;
}

const std::vector<int32_t> kTokens = {1, 291, 376, 298, 315, 421, 286, 393, 329, 429, 412, 425, 372, 358};

TEST(FormatParity, Llama2cHuggingFaceAndGgufGiveTheSameLogits) {
  const auto bin = test::shared_path("models/stories260K/stories260K.bin");
  const auto hf = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(bin);
  OPTIPFAIR_REQUIRE_SHARED(hf);
  const Model from_bin = load_model(bin.string());
  const Model from_hf = load_model(hf.string());
  test::ScratchDir dir;
  save_gguf_model(from_hf, dir / "stories260K.gguf");
  const Model from_gguf = load_model((dir / "stories260K.gguf").string());
  EXPECT_EQ(from_gguf.format, "gguf");

  const auto l_bin = forward_tokens(from_bin, kTokens);
  const auto l_hf = forward_tokens(from_hf, kTokens);
  const auto l_gguf = forward_tokens(from_gguf, kTokens);
  EXPECT_LE(max_rel_diff(l_bin, l_hf), 1e-5);
  EXPECT_LE(max_rel_diff(l_gguf, l_hf), 1e-5);
}

// ../shared/README.md: mean next-token loss of stories260K on the first TinyStories story
// (374 tokens with BOS, tok512) is 1.3160 nats, as llama2.c computes it.
TEST(ReferenceLoss, FirstTinyStoryMatchesLlama2c) {
  const auto bin = test::shared_path("models/stories260K/stories260K.bin");
  const auto text_path = test::shared_path("data/tinystories-sample/tinystories_sample.txt");
  OPTIPFAIR_REQUIRE_SHARED(bin);
  OPTIPFAIR_REQUIRE_SHARED(text_path);
  std::ifstream in(text_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string story = ss.str().substr(0, ss.str().find("<|endoftext|>"));
  const auto not_space = story.find_first_not_of(" \t\r\n");
  story = story.substr(not_space, story.find_last_not_of(" \t\r\n") - not_space + 1);

  const Model model = load_model(bin.string());
  const auto tok = load_tokenizer(bin);
  const std::vector<int32_t> ids = tok->encode(story);
  ASSERT_EQ(ids.size(), 374u);
  ASSERT_EQ(ids.front(), 1);

  const std::vector<float> logits = forward_tokens(model, ids);
  const int64_t V = model.config.vocab_size;
  double total = 0;
  for (size_t t = 0; t + 1 < ids.size(); ++t) {
    const float* row = logits.data() + static_cast<int64_t>(t) * V;
    const double mx = *std::max_element(row, row + V);
    double z = 0;
    for (int64_t i = 0; i < V; ++i) z += std::exp(row[i] - mx);
    total += (mx + std::log(z)) - row[ids[t + 1]];
  }
  const double mean_loss = total / static_cast<double>(ids.size() - 1);
  EXPECT_NEAR(mean_loss, 1.3160, 5e-4);
}

}  // namespace
}  // namespace optipfair
