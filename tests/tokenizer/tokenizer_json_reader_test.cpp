// tokenizer.json as simdjson's on-demand reader sees it, through load_tokenizer (so through the
// mapped file and its padding): escapes, both merge forms, any key order, and malformed files.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {
namespace {

using test::error_of;

// No normalizer or pre-tokenizer: the whole text is one word for the BPE model.
std::string tokenizer_json(const std::string& model) {
  return R"({"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,
    "decoder":null,"model":)" + model + "}";
}

// vocab a, b, ", ab, a", ab" and the merges a+b, a+", ab+".
const std::string kPlainModel =
    R"({"type":"BPE","vocab":{"a":0,"b":1,"\"":2,"ab":3,"a\"":4,"ab\"":5},"merges":[["a","b"],["a","\""],["ab","\""]]})";
// The same model spelled differently: escapes everywhere, the older "left right" merges, merges
// before the vocabulary, odd whitespace.
const std::string kSpelledModel = R"({ "merges" : [ "\u0061 \u0062" , "a \"", "\u0061b \u0022" ] ,
    "type" : "BPE", "vocab" : { "\u0061" : 0 , "b" : 1, "\u0022" : 2, "a\u0062" : 3, "a\"" : 4, "ab\"" : 5 } })";

std::unique_ptr<Tokenizer> load_text(const test::ScratchDir& dir, const std::string& text) {
  std::ofstream(dir / "tokenizer.json", std::ios::binary) << text;
  return load_tokenizer(dir / "tokenizer.json");
}

std::string load_error(const std::string& text) {
  test::ScratchDir dir;
  return error_of([&] { load_text(dir, text); });
}

TEST(TokenizerJsonReader, EscapesMergeFormsAndKeyOrderReadTheSame) {
  test::ScratchDir dir;
  for (const std::string& model : {kPlainModel, kSpelledModel}) {
    const auto tok = load_text(dir, tokenizer_json(model));
    EXPECT_EQ(tok->encode("ab\"ab", {false, false}), std::vector<int32_t>({5, 3})) << model;
    EXPECT_EQ(tok->encode("a\"b", {false, false}), std::vector<int32_t>({4, 1})) << model;
    EXPECT_EQ(tok->token_text(5), "ab\"") << model;
    EXPECT_EQ(tok->vocab_size(), 6) << model;
  }
}

// The parser reads whole 64-byte vectors: a file ending exactly at a page boundary must still load.
TEST(TokenizerJsonReader, FileEndingOnAPageBoundaryLoads) {
  test::ScratchDir dir;
  std::string text = tokenizer_json(kPlainModel);
  text.insert(text.size() - 1, 4096 - text.size(), ' ');
  ASSERT_EQ(text.size(), 4096u);
  EXPECT_EQ(load_text(dir, text)->encode("ab", {false, false}), std::vector<int32_t>({3}));
}

TEST(TokenizerJsonReader, MalformedFilesAreErrors) {
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos ? testing::AssertionSuccess() : testing::AssertionFailure() << msg;
  };
  EXPECT_TRUE(has(load_error(tokenizer_json(kPlainModel) + " {}"), "is not valid JSON"));
  EXPECT_TRUE(has(load_error(tokenizer_json(kPlainModel).substr(0, 100)), "is not valid JSON"));
  EXPECT_TRUE(has(load_error(R"({"model":)" + kPlainModel + R"(,"model":)" + kPlainModel + "}"), "gives \"model\" twice"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0},"vocab":{"b":1},"merges":[]})")), "gives model.vocab twice"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0},"merges":[],"merges":[]})")), "gives model.merges twice"));
  // The merges are skipped by the first pass and checked by the second.
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"] ["a","b"]]})")),
                  "is not valid JSON"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b","c"]]})")),
                  "a merge must be a pair of strings"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":1,"ab":2},"merges":[["a",1]]})")),
                  "a merge must be a pair of strings"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":1,"ab":2},"merges":[7]})")),
                  "a merge must be a pair of strings"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":1,"ab":2},"merges":["ab"]})")),
                  "the merge 'ab' is not two tokens separated by a space"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":1.5},"merges":[]})")),
                  "the vocabulary id of 'b' is not an integer in [0, 2^31)"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"b":-1},"merges":[]})")),
                  "the vocabulary id of 'b' is not an integer in [0, 2^31)"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0,"\ud800":1},"merges":[]})")), "is not valid JSON"));
  EXPECT_TRUE(has(load_error(tokenizer_json(R"({"vocab":{"a":0},"merges":[],"dropout":nul})")), "is not valid JSON"));
  EXPECT_TRUE(has(load_error("[1, 2]"), "has no \"model\" object"));
  EXPECT_TRUE(has(load_error(""), "is not valid JSON"));
}

}  // namespace
}  // namespace optipfair
