// Hostile tokenizer files found by fuzzing (issue 13): each, written here in a few bytes, is refused
// with an Error naming the problem, never another exception type or a huge allocation.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace optipfair {
namespace {

using test::error_of;

// ---- SentencePiece .model: a protobuf ModelProto, assembled by hand ----

std::string length_delimited(int field, const std::string& bytes) {
  // Every message here is shorter than 128 bytes, so the length is a one-byte varint.
  return std::string(1, static_cast<char>(field << 3 | 2)) + static_cast<char>(bytes.size()) + bytes;
}

// A SentencePiece message: the piece, score -1 (float32 0xBF800000), and its type.
std::string piece(const std::string& text, int type) {
  return length_delimited(1, length_delimited(1, text) + std::string("\x15\x00\x00\x80\xbf", 5) +
                                 std::string(1, '\x18') + static_cast<char>(type));
}

// A unigram model with <unk>, <s>, </s> and the normal pieces given.
std::string sentencepiece_model(const std::vector<std::string>& normal) {
  constexpr int kNormal = 1, kUnknown = 2, kControl = 3;
  std::string out = piece("<unk>", kUnknown) + piece("<s>", kControl) + piece("</s>", kControl);
  for (const auto& p : normal) out += piece(p, kNormal);
  return out;
}

TEST(HostileTokenizer, SentencePieceModelBuiltHereLoads) {
  test::ScratchDir dir;
  std::ofstream(dir / "t.model", std::ios::binary) << sentencepiece_model({"a", "b", "ab"});
  auto tok = load_tokenizer(dir / "t.model");
  EXPECT_EQ(tok->vocab_size(), 6);
  EXPECT_EQ(tok->token_text(5), "ab");
}

// libsentencepiece's trie builder (Darts) throws its own exception type for a NUL byte in a piece.
TEST(HostileTokenizer, SentencePiecePieceWithNulBytesIsAnError) {
  test::ScratchDir dir;
  std::ofstream(dir / "t.model", std::ios::binary) << sentencepiece_model({"a", std::string("\0\0b", 3)});
  const std::string msg = error_of([&] { load_tokenizer(dir / "t.model"); });
  EXPECT_NE(msg.find("cannot load the SentencePiece model " + (dir / "t.model").string()), std::string::npos) << msg;
}

// ---- tokenizer.json ----

std::string tokenizer_json(const std::string& vocab, const std::string& added_id = "2") {
  return R"({"added_tokens":[{"id":)" + added_id + R"(,"content":"<eos>","special":true}],"normalizer":null,
    "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
    "post_processor":null,"decoder":{"type":"ByteLevel"},
    "model":{"type":"BPE","vocab":)" + vocab + R"(,"merges":[]}})";
}

std::string load_error(const std::string& vocab, const std::string& added_id = "2") {
  test::ScratchDir dir;
  std::ofstream(dir / "tokenizer.json") << tokenizer_json(vocab, added_id);
  return error_of([&] { load_tokenizer(dir.path()); });
}

TEST(HostileTokenizer, VocabularyIdsAreBoundedByTheFile) {
  EXPECT_EQ(load_error(R"({"a":0,"b":1})"), "(no error)");
  EXPECT_EQ(load_error(R"({"a":0,"b":2})"), "(no error)");  // the added token's id may be a vocabulary id too
  // INT32_MAX + 1 overflowed; 5e8 sized a table of 16 GB.
  EXPECT_EQ(load_error(R"({"a":0,"b":2147483647})"),
            "tokenizer vocabulary id 2147483647 of 'b' is not below 3, the number of vocabulary entries and added "
            "tokens");
  EXPECT_EQ(load_error(R"({"a":0,"b":500000000})"),
            "tokenizer vocabulary id 500000000 of 'b' is not below 3, the number of vocabulary entries and added "
            "tokens");
  // An added token's id sizes the vocabulary the model is checked against.
  const std::string msg = load_error(R"({"a":0,"b":1})", "2147483647");
  EXPECT_NE(msg.find("the added token '<eos>' has id 2147483647, not below 3"), std::string::npos) << msg;
}

}  // namespace
}  // namespace optipfair
