// The vocabulary written into GGUF files: for Llama-3's tokenizer.json and Llama-2's
// tokenizer.model, every tokenizer.* key llama.cpp's own converter wrote (the reference GGUF files
// in ../shared); for the other forms, a written vocabulary read back encodes the reference vectors.
#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "test_support.h"
#include "tokenizer/gguf_vocab_export.h"
#include "tokenizer/tokenizer.h"
#include "util/build_paths.h"
#include "util/error.h"
#include "vector_files.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;
using test::shared_path;

bool same_value(const GgufValue& a, const GgufValue& b) {
  auto integral = [](const GgufValue& v) { return v.kind == GgufValue::Kind::Int || v.kind == GgufValue::Kind::UInt; };
  if (integral(a) && integral(b)) {
    const int64_t x = a.kind == GgufValue::Kind::Int ? a.i : static_cast<int64_t>(a.u);
    const int64_t y = b.kind == GgufValue::Kind::Int ? b.i : static_cast<int64_t>(b.u);
    return x == y;
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case GgufValue::Kind::Float: return static_cast<float>(a.f) == static_cast<float>(b.f);
    case GgufValue::Kind::Bool: return a.b == b.b;
    case GgufValue::Kind::String: return a.s == b.s;
    case GgufValue::Kind::Array:
      if (a.array_size() != b.array_size()) return false;
      for (size_t i = 0; i < a.array_size(); ++i)
        if (!same_value(a.array_element(i), b.array_element(i))) return false;
      return true;
    default: return false;
  }
}

// Every tokenizer.* key of llama.cpp's file is in ours with the same value (ours may add the chat
// template, which that file leaves out).
void expect_matches_llamacpp(const GgufMetadata& ours, const fs::path& reference) {
  const GgufFile ref = GgufFile::open(reference);
  int compared = 0;
  for (const auto& [key, value] : ref.metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    const std::string& name = key;  // clang before 16 cannot capture a structured binding
    const auto it = std::find_if(ours.begin(), ours.end(), [&](const auto& kv) { return kv.first == name; });
    ASSERT_NE(it, ours.end()) << key << " missing";
    EXPECT_TRUE(same_value(it->second, value)) << key << " differs";
    ++compared;
  }
  EXPECT_GE(compared, 6);
}

TEST(GgufVocabExport, Llama3TokenizerJsonAsLlamaCppConvertsIt) {
  const fs::path ref = shared_path("tokenizers/gguf/llama3-vocab.gguf");
  OPTIPFAIR_REQUIRE_SHARED(ref);
  expect_matches_llamacpp(gguf_vocab_metadata(shared_path("tokenizers/llama3"), 128256), ref);
}

TEST(GgufVocabExport, Llama2SentencePieceAsLlamaCppConvertsIt) {
  const fs::path ref = shared_path("tokenizers/llama.cpp-vectors/ggml-vocab-llama-spm.gguf");
  OPTIPFAIR_REQUIRE_SHARED(ref);
  OPTIPFAIR_REQUIRE_SHARED(shared_path("tokenizers/llama2/tokenizer.model"));
  expect_matches_llamacpp(gguf_vocab_metadata(shared_path("tokenizers/llama2"), 32000), ref);
}

// Writes a vocabulary-only GGUF of `folder`'s tokenizer and reads it back with our GGUF reader.
std::unique_ptr<Tokenizer> through_gguf(const fs::path& folder, int64_t vocab_size, const fs::path& file) {
  GgufWriter w;
  w.set("general.architecture", gguf_string("llama"));
  for (const auto& [k, v] : gguf_vocab_metadata(folder, vocab_size)) w.set(k, v);
  w.write(file, true);
  return load_tokenizer_gguf(file);
}

void expect_reference_ids(const Tokenizer& tok, const std::vector<test::VectorRow>& rows, bool parse_special) {
  int checked = 0;
  for (const auto& row : rows) {
    const auto& want = parse_special && row.ids_parse_special ? *row.ids_parse_special : row.ids;
    EXPECT_EQ(tok.encode(row.text, {false, parse_special}), want) << "[" << escape_visible(row.text) << "]";
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(GgufVocabExport, SentencePieceStyleTokenizerJsonScoresReplayTheMerges) {
  // Llama-2's tokenizer.json alone (no tokenizer.model beside it): pieces are scored from the merges.
  const fs::path src = shared_path("tokenizers/llama2");
  OPTIPFAIR_REQUIRE_SHARED(src / "tokenizer.json");
  test::ScratchDir dir;
  fs::create_directories(dir / "llama2-json");
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(src / f, dir / "llama2-json" / f);
  const auto tok = through_gguf(dir / "llama2-json", 32000, dir / "vocab.gguf");
  expect_reference_ids(*tok, test::read_jsonl_vectors(shared_path("tokenizers/tests/llama2.jsonl")), false);
  expect_reference_ids(*tok, test::read_jsonl_vectors(shared_path("tokenizers/tests/llama2_llamacpp_vocab_tests.jsonl")),
                       false);
  const GgufFile f = GgufFile::open(dir / "vocab.gguf");
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.get_int("tokenizer.ggml.unknown_token_id"), 0);
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type")[3], 6);  // <0x00> is a byte token
}

TEST(GgufVocabExport, GemmaStyleTokenizerJsonHasNoSpacePrefix) {
  // Gemma's form prepends nothing: the GGUF must say so, or llama.cpp (and our GGUF reader) would
  // put a "▁" before the text. Vectors by Hugging Face tokenizers (docs/tokenizers.md).
  const fs::path src = fs::path(OPTIPFAIR_TEST_DATA_DIR) / "tokenizer/data/gemma_style";
  test::ScratchDir dir;
  const auto tok = through_gguf(src, 2048, dir / "vocab.gguf");
  const GgufFile f = GgufFile::open(dir / "vocab.gguf");
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_space_prefix"));
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 2);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 1);
  std::vector<test::VectorRow> rows;
  for (auto& row : test::read_jsonl_vectors((src / "vectors.jsonl").string()))
    if (row.text.find("_of_turn>") == std::string::npos && row.text.find("<bos>") == std::string::npos)
      rows.push_back(std::move(row));
  expect_reference_ids(*tok, rows, false);
  // Llama-2's form keeps the default (a prefix): the key is not written.
  const fs::path llama2 = shared_path("tokenizers/llama2");
  if (fs::exists(llama2 / "tokenizer.json")) {
    fs::create_directories(dir / "llama2-json");
    fs::copy_file(llama2 / "tokenizer.json", dir / "llama2-json" / "tokenizer.json");
    through_gguf(dir / "llama2-json", 32000, dir / "l2.gguf");
    EXPECT_FALSE(GgufFile::open(dir / "l2.gguf").has("tokenizer.ggml.add_space_prefix"));
  }
}

TEST(GgufVocabExport, ByteVocabularyForModelsWithoutOne) {
  const GgufMetadata md = gguf_byte_vocab_metadata(300, 2, 1);
  test::ScratchDir dir;
  GgufWriter w;
  w.set("general.architecture", gguf_string("llama"));
  for (const auto& [k, v] : md) w.set(k, v);
  w.write(dir / "bytes.gguf", true);
  const auto tok = load_tokenizer_gguf(dir / "bytes.gguf");
  EXPECT_EQ(tok->vocab_size(), 300);
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->encode("A\n", {false, false}), (std::vector<int32_t>{0x41, 0x0A}));  // byte fallback, no prefix
  EXPECT_THROW(gguf_byte_vocab_metadata(100, 2, 1), Error);
}

TEST(GgufVocabExport, Stories260kAndPaddedVocabulary) {
  const fs::path src = shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(src);
  test::ScratchDir dir;
  // 512 pieces in a model of 520 rows: the 8 ids the tokenizer lacks are padding, type unused.
  const auto tok = through_gguf(src, 520, dir / "vocab.gguf");
  expect_reference_ids(*tok, test::read_jsonl_vectors(shared_path("tokenizers/tests/stories260K.jsonl")), false);
  const GgufFile f = GgufFile::open(dir / "vocab.gguf");
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 520u);
  EXPECT_EQ(tokens[515], "[PAD515]");
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type")[515], 5);
  EXPECT_TRUE(f.get_bool("tokenizer.ggml.add_bos_token"));
}

TEST(GgufVocabExport, ByteLevelDemoTokenizerRoundTrips) {
  const fs::path src = OPTIPFAIR_DEMO_MODEL;
  if (!fs::exists(src / "tokenizer.json")) GTEST_SKIP() << "demo model missing: " << (src / "tokenizer.json");
  test::ScratchDir dir;
  const auto hf = load_tokenizer(src);
  const auto tok = through_gguf(src, hf->vocab_size(), dir / "vocab.gguf");
  EXPECT_EQ(GgufFile::open(dir / "vocab.gguf").get_string("tokenizer.ggml.pre"), "llama-bpe");
  const auto rows = test::read_jsonl_vectors(shared_path("tokenizers/tests/llama3.jsonl"));
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    EXPECT_EQ(tok->encode(row.text), hf->encode(row.text)) << "[" << escape_visible(row.text) << "]";
    EXPECT_EQ(tok->encode(row.text, {false, false}), hf->encode(row.text, {false, false}));
  }
}

TEST(GgufVocabExport, CopiedFromAGgufSourceAndRefusals) {
  const fs::path ref = shared_path("tokenizers/gguf/llama3-vocab.gguf");
  OPTIPFAIR_REQUIRE_SHARED(ref);
  expect_matches_llamacpp(gguf_vocab_metadata(ref, 128256), ref);
  test::ScratchDir dir;
  EXPECT_THROW(gguf_vocab_metadata(dir.path(), 10), Error);  // no tokenizer there
  EXPECT_THROW(gguf_vocab_metadata(dir / "missing.bin", 10), Error);
}

}  // namespace
}  // namespace optipfair
