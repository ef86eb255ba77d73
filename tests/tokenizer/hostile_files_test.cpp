// Hostile tokenizer files found by fuzzing (issue 13): each, written here in a few bytes, is refused
// with an Error naming the problem, never another exception type or a huge allocation.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "io/gguf_writer.h"
#include "tokenizer/gguf_vocab_export.h"
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

std::string tokenizer_json(const std::string& vocab, const std::string& added_id = "2",
                           const std::string& post_processor = "null") {
  return R"({"added_tokens":[{"id":)" + added_id + R"(,"content":"<eos>","special":true}],"normalizer":null,
    "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
    "post_processor":)" + post_processor + R"(,"decoder":{"type":"ByteLevel"},
    "model":{"type":"BPE","vocab":)" + vocab + R"(,"merges":[]}})";
}

std::string load_error(const std::string& vocab, const std::string& added_id = "2",
                       const std::string& post_processor = "null") {
  test::ScratchDir dir;
  std::ofstream(dir / "tokenizer.json") << tokenizer_json(vocab, added_id, post_processor);
  return error_of([&] { load_tokenizer(dir.path()); });
}

// What the GGUF exporter (saving a model with its vocabulary) makes of a tokenizer.json it reads
// again: the loader's checks may not be assumed, the file may have changed since.
std::string export_error(const std::string& vocab, const std::string& added_id = "2") {
  test::ScratchDir dir;
  std::ofstream(dir / "tokenizer.json") << tokenizer_json(vocab, added_id);
  return error_of([&] { gguf_vocab_metadata(dir.path(), 3); });
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

TEST(HostileTokenizer, PostProcessorIdsAreInsideTheVocabulary) {
  auto template_with = [](const std::string& ids) {
    return R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<eos>","type_id":0}},
      {"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<eos>":{"id":"<eos>","ids":)" + ids +
           R"(,"tokens":["<eos>"]}}})";
  };
  EXPECT_EQ(load_error(R"({"a":0,"b":1})", "2", template_with("[2]")), "(no error)");
  EXPECT_EQ(load_error(R"({"a":0,"b":1})", "2", template_with("[3]")),
            "the tokenizer's post-processor adds the token id 3, outside the vocabulary of 3 tokens");
  // A float cast to an integer was undefined behaviour.
  const std::string msg = load_error(R"({"a":0,"b":1})", "2", template_with("[1e300]"));
  EXPECT_NE(msg.find("1e+300"), std::string::npos) << msg;
  EXPECT_EQ(load_error(R"({"a":0,"b":1})", "2", R"({"type":"BertProcessing","cls":["<eos>",7],"sep":["<eos>",2]})"),
            "the tokenizer's post-processor adds the token id 7, outside the vocabulary of 3 tokens");
}

TEST(HostileTokenizer, GgufExportBoundsTokenizerJsonIds) {
  EXPECT_EQ(export_error(R"({"a":0,"b":1})"), "(no error)");
  EXPECT_NE(export_error(R"({"a":0,"b":500000000})").find("gives the token 'b' the id 500000000, not below its 3 entries"),
            std::string::npos);
  EXPECT_NE(export_error(R"({"a":0,"b":1e300})").find("gives the token 'b' the id 1e+300"), std::string::npos);
  EXPECT_NE(export_error(R"({"a":0,"b":1})", "-5").find("gives the token '<eos>' the id -5"), std::string::npos);
}

// ---- GGUF vocabularies ----

// A GGUF holding only a vocabulary of `model` ("gpt2" or "llama") with tokens a, b, ab and the
// special ids given (key suffix -> id).
std::string gguf_vocab_error(const std::string& model, const std::vector<std::pair<std::string, uint32_t>>& ids) {
  test::ScratchDir dir;
  GgufWriter w;
  w.set("general.architecture", gguf_string("llama"));
  w.set("tokenizer.ggml.model", gguf_string(model));
  w.set("tokenizer.ggml.tokens", gguf_string_array({"a", "b", "ab"}));
  w.set("tokenizer.ggml.scores", gguf_float32_array({0, 0, -1}));
  w.set("tokenizer.ggml.merges", gguf_string_array({"a b"}));
  w.set("tokenizer.ggml.add_bos_token", gguf_bool(true));
  for (const auto& [key, id] : ids) w.set("tokenizer.ggml." + key, gguf_uint32(id));
  w.write(dir / "v.gguf");
  return error_of([&] {
    const auto tok = load_tokenizer_gguf(dir / "v.gguf");
    for (int32_t id : tok->encode("ab ba z"))
      if (id < 0 || id >= tok->vocab_size()) throw Error("encode returned id " + std::to_string(id));
  });
}

// Found by fuzz_gguf in CI: a BOS id past the vocabulary was put in front of every encoding.
TEST(HostileTokenizer, GgufSpecialIdsOutsideTheVocabularyAreRefused) {
  for (const std::string model : {"gpt2", "llama"}) {
    SCOPED_TRACE(model);
    EXPECT_EQ(gguf_vocab_error(model, {{"bos_token_id", 0}, {"eos_token_id", 2}}), "(no error)");
    EXPECT_NE(gguf_vocab_error(model, {{"bos_token_id", 3}}).find(
                  "tokenizer.ggml.bos_token_id is 3, outside the vocabulary of 3 tokens"),
              std::string::npos);
    EXPECT_NE(gguf_vocab_error(model, {{"eos_token_id", 4294967295u}}).find(
                  "tokenizer.ggml.eos_token_id is 4294967295, outside the vocabulary of 3 tokens"),
              std::string::npos);
    // Padding is never emitted by encode: an id outside is ignored, as llama.cpp does.
    EXPECT_EQ(gguf_vocab_error(model, {{"padding_token_id", 70000}}), "(no error)");
  }
  EXPECT_NE(gguf_vocab_error("llama", {{"unknown_token_id", 3}}).find("tokenizer.ggml.unknown_token_id is 3"),
            std::string::npos);
}

}  // namespace
}  // namespace optipfair
