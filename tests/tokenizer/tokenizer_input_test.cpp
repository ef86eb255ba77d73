// Bad files and bad text: each gives a clear Error or Hugging Face's own answer, never a crash.
// Also the long-text round trips and UTF-8 handling.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>

#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/error.h"
#include "vector_files.h"

namespace optipfair {
namespace {

using test::shared_path;

// A tiny byte-level tokenizer.json; `model_patch` / `pre_patch` replace parts of it.
std::string tiny_json(const std::string& model_type = "BPE", const std::string& merges = R"([["a","b"]])",
                      const std::string& regex = R"(\\p{L}+|\\s+(?!\\S)|\\s+|\\p{N})") {
  return R"({"version":"1.0","added_tokens":[{"id":5,"content":"<eos>","special":true}],
    "normalizer":null,
    "pre_tokenizer":{"type":"Sequence","pretokenizers":[
      {"type":"Split","pattern":{"Regex":")" + regex + R"("},"behavior":"Isolated","invert":false},
      {"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
    "post_processor":null,"decoder":{"type":"ByteLevel"},
    "model":{"type":")" + model_type + R"(","vocab":{"a":0,"b":1,"ab":2,"Ġ":3,"c":4},"merges":)" + merges + "}}";
}

std::unique_ptr<Tokenizer> load_text(const test::ScratchDir& dir, const std::string& json) {
  std::ofstream(dir / "tokenizer.json") << json;
  return load_tokenizer(dir.path());
}

using test::error_of;

TEST(TokenizerInput, TinyJsonWorks) {
  test::ScratchDir dir;
  auto tok = load_text(dir, tiny_json());
  EXPECT_EQ(tok->encode("ab c<eos>"), (std::vector<int32_t>{2, 3, 4, 5}));
  EXPECT_EQ(tok->encode("ab c<eos>", {true, false}), (std::vector<int32_t>{2, 3, 4}));  // '<' etc. unknown: dropped
  EXPECT_EQ(tok->decode(std::vector<int32_t>{2, 3, 4, 5}), "ab c<eos>");
  EXPECT_EQ(tok->decode(std::vector<int32_t>{2, 3, 4, 5}, true), "ab c");
  EXPECT_EQ(tok->decode(std::vector<int32_t>{2, 999, -1}), "ab");  // unknown ids skipped
  EXPECT_THROW(tok->token_text(999), Error);
}

TEST(TokenizerInput, UnknownModelType) {
  test::ScratchDir dir;
  auto msg = error_of([&] { load_text(dir, tiny_json("WordPiece")); });
  EXPECT_NE(msg.find("WordPiece"), std::string::npos) << msg;
}

TEST(TokenizerInput, RegexThatDoesNotCompile) {
  test::ScratchDir dir;
  auto msg = error_of([&] { load_text(dir, tiny_json("BPE", R"([["a","b"]])", R"(\\p{L}+(|[)")); });
  EXPECT_NE(msg.find("does not compile"), std::string::npos) << msg;
}

TEST(TokenizerInput, MergeNamingMissingToken) {
  test::ScratchDir dir;
  auto msg = error_of([&] { load_text(dir, tiny_json("BPE", R"([["a","zz"]])")); });
  EXPECT_NE(msg.find("'zz'"), std::string::npos) << msg;
  msg = error_of([&] { load_text(dir, tiny_json("BPE", R"(["a c"])")); });  // "ac" is not in the vocabulary
  EXPECT_NE(msg.find("'ac'"), std::string::npos) << msg;
}

TEST(TokenizerInput, NotJsonAndMissingFiles) {
  test::ScratchDir dir;
  EXPECT_THROW(load_text(dir, "{not json"), Error);
  test::ScratchDir empty;
  auto msg = error_of([&] { load_tokenizer(empty.path()); });
  EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
  EXPECT_THROW(load_tokenizer(empty / "missing.gguf"), Error);
  std::ofstream(empty / "tok9.bin") << "xy";
  EXPECT_THROW(load_tokenizer(empty / "tok9.bin"), Error);
}

TEST(TokenizerInput, EmptyPrompt) {
  test::ScratchDir dir;
  auto tok = load_text(dir, tiny_json());
  EXPECT_TRUE(tok->encode("").empty());
  EXPECT_EQ(tok->decode(std::vector<int32_t>{}), "");
  auto l3 = shared_path("tokenizers/llama3/tokenizer.json");
  OPTIPFAIR_REQUIRE_SHARED(l3);
  EXPECT_EQ(load_tokenizer(l3)->encode(""), std::vector<int32_t>{128000});
}

TEST(TokenizerInput, Utf8SanitizeMatchesPythonReplace) {
  // Expected strings are b"...".decode("utf-8", errors="replace") in CPython.
  EXPECT_EQ(utf8_replace_invalid("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_replace_invalid("\xE2\x82"), "\xEF\xBF\xBD");            // truncated sequence: one U+FFFD
  EXPECT_EQ(utf8_replace_invalid("\xE2\x82x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(utf8_replace_invalid("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(utf8_replace_invalid("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(utf8_replace_invalid("\xF0\x9F\x98"), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_replace_invalid("ok \xC3\xA9"), "ok \xC3\xA9");
}

// One test per vocabulary form, so a missing one is a skip naming it, not a silent pass.
class InvalidUtf8 : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidUtf8, IsReplacedNotFatal) {
  const auto path = shared_path(GetParam());
  OPTIPFAIR_REQUIRE_SHARED(path);
  auto tok = load_tokenizer(path);
  EncodeOptions plain{false, true};
  EXPECT_EQ(tok->encode("a\xFF\xC0 b\xE2\x82", plain), tok->encode("a\xEF\xBF\xBD\xEF\xBF\xBD b\xEF\xBF\xBD", plain));
  EXPECT_EQ(tok->decode(tok->encode("x\xFFy", plain)), "x\xEF\xBF\xBDy");
}

// "tokenizers/llama2/tokenizer.model" -> "tokenizers_llama2_tokenizer_model" (gtest names take [A-Za-z0-9_]).
std::string asset_test_name(const ::testing::TestParamInfo<const char*>& param) {
  std::string name = param.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(TokenizerInput, InvalidUtf8,
                         ::testing::Values("tokenizers/llama3/tokenizer.json", "tokenizers/llama2/tokenizer.json",
                                           "tokenizers/llama2/tokenizer.model", "models/stories260K/tok512.bin"),
                         asset_test_name);

// decode(encode(text)) == text over whole books, for each vocabulary form.
void round_trip_file(const std::string& tokenizer_rel, const std::string& text_rel) {
  auto tok_path = shared_path(tokenizer_rel), text_path = shared_path(text_rel);
  OPTIPFAIR_REQUIRE_SHARED(tok_path);
  OPTIPFAIR_REQUIRE_SHARED(text_path);
  auto tok = load_tokenizer(tok_path);
  const std::string text = test::read_text_file(text_path);
  auto ids = tok->encode(text, {false, false});
  EXPECT_GT(ids.size(), text.size() / 8);
  const std::string back = tok->decode(ids);
  ASSERT_EQ(back.size(), text.size()) << tokenizer_rel << " on " << text_rel;
  EXPECT_TRUE(back == text) << tokenizer_rel << " on " << text_rel;
}

TEST(TokenizerRoundTrip, WarAndPeaceLlama3) { round_trip_file("tokenizers/llama3/tokenizer.json", "data/war-and-peace/war-and-peace.txt"); }
TEST(TokenizerRoundTrip, WarAndPeaceLlama2) { round_trip_file("tokenizers/llama2/tokenizer.json", "data/war-and-peace/war-and-peace.txt"); }
TEST(TokenizerRoundTrip, WikitextSentencePiece) { round_trip_file("tokenizers/llama2/tokenizer.model", "data/wikitext-2-raw/wiki.test.raw"); }
TEST(TokenizerRoundTrip, WikitextLlama3) { round_trip_file("tokenizers/llama3/tokenizer.json", "data/wikitext-2-raw/wiki.test.raw"); }
TEST(TokenizerRoundTrip, WikitextLlama2) { round_trip_file("tokenizers/llama2/tokenizer.json", "data/wikitext-2-raw/wiki.test.raw"); }
TEST(TokenizerRoundTrip, WikitextGgufLlama3) { round_trip_file("tokenizers/gguf/llama3-vocab.gguf", "data/wikitext-2-raw/wiki.test.raw"); }
TEST(TokenizerRoundTrip, WikitextStoriesTok512) { round_trip_file("models/stories260K/tok512.bin", "data/wikitext-2-raw/wiki.test.raw"); }

// The JSON form and the SentencePiece model of Llama-2 agree on whole books, not just on vectors.
TEST(TokenizerRoundTrip, Llama2JsonAgreesWithSentencePieceOnWikitext) {
  auto json_path = shared_path("tokenizers/llama2/tokenizer.json"), model_path = shared_path("tokenizers/llama2/tokenizer.model");
  auto text_path = shared_path("data/wikitext-2-raw/wiki.test.raw");
  OPTIPFAIR_REQUIRE_SHARED(json_path);
  OPTIPFAIR_REQUIRE_SHARED(model_path);
  OPTIPFAIR_REQUIRE_SHARED(text_path);
  const std::string text = test::read_text_file(text_path);
  EXPECT_TRUE(load_tokenizer(json_path)->encode(text) == load_tokenizer(model_path)->encode(text));
}

}  // namespace
}  // namespace optipfair
