// Perplexity of a text file (fair-prune's --perplexity-text): documents split at <|endoftext|>,
// stories260K's figure on its first story against shared/README.md, and the whole sample against
// one plain forward pass per document.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "eval/eval_text.h"
#include "eval/loglikelihood.h"
#include "eval/text_perplexity.h"
#include "io/load_model.h"
#include "model/forward.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

TEST(TextPerplexity, SplitsAtEndOfTextAndStrips) {
  EXPECT_EQ(split_text_documents("  one story \n<|endoftext|>\n\ntwo<|endoftext|> <|endoftext|>"),
            (std::vector<std::string>{"one story", "two"}));
  EXPECT_EQ(split_text_documents("no marker"), (std::vector<std::string>{"no marker"}));
  EXPECT_TRUE(split_text_documents(" \n<|endoftext|>\t").empty());
  EXPECT_TRUE(split_text_documents("").empty());
}

// Sum of log p(token) over [prefix] + tokens from one forward pass (each story is shorter than the context).
double direct_loglikelihood(const Model& m, const Tokenizer& tok, const std::string& text, int64_t* n) {
  std::vector<int32_t> ids = {prefix_token_id(tok)};
  const std::vector<int32_t> body = encode_plain(tok, text);
  ids.insert(ids.end(), body.begin(), body.end());
  *n = static_cast<int64_t>(body.size());
  const std::vector<int32_t> input(ids.begin(), ids.end() - 1);
  const std::vector<float> logits = forward_tokens(m, input);
  const int64_t V = m.config.vocab_size;
  double ll = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    const float* row = logits.data() + i * V;
    double mx = row[0];
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
    double z = 0;
    for (int64_t v = 0; v < V; ++v) z += std::exp(row[v] - mx);
    ll += row[ids[i + 1]] - mx - std::log(z);
  }
  return ll;
}

TEST(TextPerplexity, Stories260kOnTinyStoriesSample) {
  const auto dir = test::shared_path("models/stories260K-hf");
  const auto file = test::shared_path("data/tinystories-sample/tinystories_sample.txt");
  OPTIPFAIR_REQUIRE_SHARED(dir);
  OPTIPFAIR_REQUIRE_SHARED(file);
  const Model m = load_model(dir.string());
  const auto tok = load_tokenizer(dir);
  const TextPerplexity all = text_file_perplexity(m, *tok, file.string());
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::string> docs = split_text_documents(text);
  ASSERT_EQ(docs.size(), 5u);  // shared/README.md: 5 stories
  EXPECT_EQ(all.documents, 5);

  // shared/README.md: the first story, 374 tokens with BOS, mean loss 1.3160 nats, perplexity 3.728.
  const TextPerplexity first = text_perplexity(m, *tok, {docs[0]});
  EXPECT_EQ(first.tokens, 373);
  EXPECT_NEAR(first.mean_loss, 1.3160, 5e-4);
  EXPECT_NEAR(first.token_perplexity, 3.728, 2e-3);

  double ll = 0;
  int64_t tokens = 0, bytes = 0;
  for (const auto& d : docs) {
    int64_t n = 0;
    ll += direct_loglikelihood(m, *tok, d, &n);
    tokens += n;
    bytes += static_cast<int64_t>(d.size());
  }
  EXPECT_EQ(all.tokens, tokens);
  EXPECT_EQ(all.bytes, bytes);
  EXPECT_NEAR(all.loglikelihood, ll, 1e-6 * std::fabs(ll) + 1e-3);
  EXPECT_NEAR(all.token_perplexity, std::exp(-ll / static_cast<double>(tokens)), 1e-4);
  EXPECT_NEAR(all.bits_per_byte, -ll / static_cast<double>(bytes) / std::log(2.0), 1e-6);
  int64_t words = 0;
  for (const auto& d : docs) words += count_words_python(d);  // lm-eval's len(re.split(r"\s+", doc))
  EXPECT_EQ(all.words, words);
  EXPECT_NEAR(all.word_perplexity, std::exp(-ll / static_cast<double>(words)), 1e-6 * all.word_perplexity);
  EXPECT_NEAR(all.byte_perplexity, std::exp(-ll / static_cast<double>(bytes)), 1e-6 * all.byte_perplexity);
  EXPECT_NEAR(all.mean_loss, -ll / static_cast<double>(tokens), 1e-6);
}

TEST(TextPerplexity, MissingOrEmptyFileIsAnError) {
  const auto dir = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(dir);
  const Model m = load_model(dir.string());
  const auto tok = load_tokenizer(dir);
  test::ScratchDir scratch;
  const auto missing = scratch.path() / "missing.txt";
  try {
    text_file_perplexity(m, *tok, missing.string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
  }
  const auto empty = scratch.path() / "empty.txt";
  std::ofstream(empty) << "\n<|endoftext|>\n";
  EXPECT_THROW(text_file_perplexity(m, *tok, empty.string()), Error);
}

}  // namespace
}  // namespace optipfair
