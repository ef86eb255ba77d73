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

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

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

}  // namespace
}  // namespace optipfair
