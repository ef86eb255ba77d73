// lm-eval's _encode_pair on tricky splits, with a byte-level BPE (the demo model) and the Llama-2
// SentencePiece-style tokenizer: trailing whitespace of the context moves to the continuation,
// and the continuation is what the whole string has beyond the context's own tokens.
#include <gtest/gtest.h>

#include "eval/loglikelihood.h"
#include "test_support.h"
#include "util/build_paths.h"

namespace optipfair {
namespace {

// The documented rule, checked piece by piece on one pair.
void expect_rule(const Tokenizer& tok, const std::string& context, const std::string& continuation,
                 const std::string& moved_context, const std::string& moved_continuation) {
  const auto [ctx, cont] = encode_pair(tok, context, continuation);
  EncodeOptions plain;
  plain.add_special_tokens = false;
  EXPECT_EQ(ctx, tok.encode(moved_context, plain)) << context;
  std::vector<int32_t> whole = ctx;
  whole.insert(whole.end(), cont.begin(), cont.end());
  const auto expected_whole = tok.encode(moved_context + moved_continuation, plain);
  if (expected_whole.size() >= ctx.size() &&
      std::equal(ctx.begin(), ctx.end(), expected_whole.begin()))
    EXPECT_EQ(whole, expected_whole) << context << "|" << continuation;
  else  // the whole string's tokens differ inside the context: cont is still whole[len(ctx):]
    EXPECT_EQ(cont, std::vector<int32_t>(expected_whole.begin() + static_cast<std::ptrdiff_t>(ctx.size()),
                                         expected_whole.end()));
}

void check_tricky_splits(const Tokenizer& tok) {
  expect_rule(tok, "Question: Is it?\nAnswer:", " yes", "Question: Is it?\nAnswer:", " yes");
  expect_rule(tok, "Question: Is it?\nAnswer: ", "yes", "Question: Is it?\nAnswer:", " yes");
  expect_rule(tok, "The passage\n", "Question", "The passage", "\nQuestion");
  expect_rule(tok, "He said \t ", "hello", "He said", " \t hello");
  expect_rule(tok, "Hello", ", world.", "Hello", ", world.");
  expect_rule(tok, "It cost $", "3.50", "It cost $", "3.50");
  expect_rule(tok, "don", "'t", "don", "'t");

  // A trailing space moved onto the continuation: both spellings give the same tokens.
  const auto a = encode_pair(tok, "Answer:", " yes");
  const auto b = encode_pair(tok, "Answer: ", "yes");
  EXPECT_EQ(a, b);
  // An empty context is the prefix token (BOS, else EOS) and the continuation alone.
  const auto e = encode_pair(tok, "", "The cat sat.");
  ASSERT_EQ(e.first.size(), 1u);
  EXPECT_EQ(e.first[0], prefix_token_id(tok));
}

TEST(TokenBoundary, DemoByteLevelBpe) {
  const std::filesystem::path demo = OPTIPFAIR_DEMO_MODEL;
  if (!std::filesystem::exists(demo / "tokenizer.json")) GTEST_SKIP() << "demo model missing: " << demo;
  const auto tok = load_tokenizer(demo);
  check_tricky_splits(*tok);
  // Byte-level BPE: the space lives in the continuation's first token ("Ġyes"), never alone at
  // the end of the context.
  const auto [ctx, cont] = encode_pair(*tok, "Answer: ", "yes");
  EXPECT_NE(tok->token_text(ctx.back()), "\xC4\xA0");
  EXPECT_EQ(tok->token_text(cont.front()).substr(0, 2), "\xC4\xA0");
}

TEST(TokenBoundary, Llama2SentencePiece) {
  const auto path = test::shared_path("tokenizers/llama2/tokenizer.json");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const auto tok = load_tokenizer_json(path);
  check_tricky_splits(*tok);
  // SentencePiece marks the word start: " yes" after the context is the single piece "▁yes".
  const auto [ctx, cont] = encode_pair(*tok, "Answer:", " yes");
  ASSERT_EQ(cont.size(), 1u);
  EXPECT_EQ(tok->token_text(cont[0]), "\xE2\x96\x81yes");
  // The context alone starts with the prefix space SentencePiece adds ("▁Answer"), as HF's does.
  EXPECT_EQ(tok->token_text(ctx.front()).substr(0, 3), "\xE2\x96\x81");
}

}  // namespace
}  // namespace optipfair
