// Every reference vector in ../shared/tokenizers, produced by Hugging Face tokenizers,
// SentencePiece or llama.cpp (never by us), against every file form of the same vocabulary.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "vector_files.h"
#include "util/build_paths.h"

namespace optipfair {
namespace {

using test::shared_path;

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

// Loading the big vocabularies once per binary keeps the suite fast.
const Tokenizer& cached(const std::string& relative) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[relative];
  if (!slot) slot = load_tokenizer(shared_path(relative));
  return *slot;
}

enum class Expect { Ids, RunC };

// Checks ids (plain), ids_parse_special (special tokens parsed) and the round trip.
void check_rows(const Tokenizer& tok, const std::string& tokenizer_rel, const std::vector<test::VectorRow>& rows,
                Expect expect = Expect::Ids, bool skip_metaspace_text = false) {
  EncodeOptions plain{false, false}, special{false, true};
  int checked = 0;
  for (const auto& row : rows) {
    if (skip_metaspace_text && row.text.find("\xE2\x96\x81") != std::string::npos) continue;
    const auto& want = expect == Expect::RunC && row.ids_llama2c_run_c ? *row.ids_llama2c_run_c : row.ids;
    auto got = tok.encode(row.text, plain);
    EXPECT_EQ(got, want) << tokenizer_rel << " text=[" << escape_visible(row.text) << "]\n got " << show(got) << "\nwant " << show(want);
    const bool run_c_row = expect == Expect::RunC && row.ids_llama2c_run_c;
    if (row.ids_parse_special) {
      auto got_special = tok.encode(row.text, special);
      EXPECT_EQ(got_special, run_c_row ? *row.ids_llama2c_run_c : *row.ids_parse_special) << tokenizer_rel << " (parse_special) text=[" << escape_visible(row.text) << "]";
    }
    // SentencePiece-style vocabularies write a space as U+2581, so a literal one decodes as a
    // space: the round trip holds up to that (Hugging Face and SentencePiece do the same).
    std::string expected_text = row.text;
    if (tok.description().find("SentencePiece") != std::string::npos) {
      std::string spaced;
      for (size_t i = 0; i < expected_text.size();) {
        if (expected_text.compare(i, 3, "\xE2\x96\x81") == 0) {
          spaced += ' ';
          i += 3;
        } else {
          spaced += expected_text[i++];
        }
      }
      expected_text = spaced;
    }
    EXPECT_EQ(tok.decode(got), expected_text) << tokenizer_rel << " round trip of [" << escape_visible(row.text) << "]";
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

void check_rows(const std::string& tokenizer_rel, const std::vector<test::VectorRow>& rows, Expect expect = Expect::Ids,
                bool skip_metaspace_text = false) {
  check_rows(cached(tokenizer_rel), tokenizer_rel, rows, expect, skip_metaspace_text);
}

std::vector<test::VectorRow> jsonl(const std::string& name) {
  auto path = shared_path("tokenizers/tests/" + name);
  return test::read_jsonl_vectors(path);
}

std::vector<test::VectorRow> llamacpp(const std::string& vocab) {
  auto base = shared_path("tokenizers/llama.cpp-vectors/ggml-vocab-" + vocab + ".gguf");
  return test::read_llamacpp_vectors(base.string() + ".inp", base.string() + ".out");
}

#define REQUIRE_FILES(...)                                                          \
  for (const char* rel : {__VA_ARGS__}) OPTIPFAIR_REQUIRE_SHARED(shared_path(rel))

TEST(TokenizerVectors, Llama3TokenizerJson) {
  REQUIRE_FILES("tokenizers/llama3/tokenizer.json", "tokenizers/tests/llama3.jsonl");
  check_rows("tokenizers/llama3/tokenizer.json", jsonl("llama3.jsonl"));
  check_rows("tokenizers/llama3/tokenizer.json", jsonl("llama3_llamacpp_vocab_tests.jsonl"));
  check_rows("tokenizers/llama3/tokenizer.json", llamacpp("llama-bpe"));
}

TEST(TokenizerVectors, Llama3MergesAsStrings) {
  REQUIRE_FILES("tokenizers/variants/llama3-merges-as-strings/tokenizer.json");
  check_rows("tokenizers/variants/llama3-merges-as-strings/tokenizer.json", jsonl("llama3.jsonl"));
}

TEST(TokenizerVectors, Llama3Gguf) {
  REQUIRE_FILES("tokenizers/gguf/llama3-vocab.gguf");
  check_rows("tokenizers/gguf/llama3-vocab.gguf", jsonl("llama3.jsonl"));
  check_rows("tokenizers/gguf/llama3-vocab.gguf", jsonl("llama3_llamacpp_vocab_tests.jsonl"));
  check_rows("tokenizers/gguf/llama3-vocab.gguf", llamacpp("llama-bpe"));
}

TEST(TokenizerVectors, Llama2TokenizerJson) {
  REQUIRE_FILES("tokenizers/llama2/tokenizer.json");
  check_rows("tokenizers/llama2/tokenizer.json", jsonl("llama2.jsonl"));
  check_rows("tokenizers/llama2/tokenizer.json", jsonl("llama2_llamacpp_vocab_tests.jsonl"));
  check_rows("tokenizers/llama2/tokenizer.json", llamacpp("llama-spm"));
}

TEST(TokenizerVectors, Llama2LegacyFormat) {
  REQUIRE_FILES("tokenizers/variants/llama2-legacy-format/tokenizer.json");
  check_rows("tokenizers/variants/llama2-legacy-format/tokenizer.json", jsonl("llama2.jsonl"));
}

TEST(TokenizerVectors, Llama2SentencePieceModel) {
  REQUIRE_FILES("tokenizers/llama2/tokenizer.model");
  check_rows("tokenizers/llama2/tokenizer.model", jsonl("llama2.jsonl"));
  check_rows("tokenizers/llama2/tokenizer.model", jsonl("llama2_llamacpp_vocab_tests.jsonl"));
  check_rows("tokenizers/llama2/tokenizer.model", llamacpp("llama-spm"));
}

TEST(TokenizerVectors, Llama2Gguf) {
  REQUIRE_FILES("tokenizers/llama.cpp-vectors/ggml-vocab-llama-spm.gguf");
  check_rows("tokenizers/llama.cpp-vectors/ggml-vocab-llama-spm.gguf", jsonl("llama2.jsonl"));
  check_rows("tokenizers/llama.cpp-vectors/ggml-vocab-llama-spm.gguf", llamacpp("llama-spm"));
}

TEST(TokenizerVectors, Llama2Llama2cBin) {
  // run.c cannot see a literal U+2581 as a space (its vocabulary writes spaces as " "), so
  // rows holding one are checked only for stories260K, where run.c's own ids are recorded.
  REQUIRE_FILES("tokenizers/llama2/tokenizer.bin");
  check_rows("tokenizers/llama2/tokenizer.bin", jsonl("llama2.jsonl"), Expect::Ids, true);
  check_rows("tokenizers/llama2/tokenizer.bin", llamacpp("llama-spm"), Expect::Ids, true);
}

// Vectors Hugging Face tokenizers 0.23.2 wrote into tests/tokenizer/data (tools/hf_tokenizers/
// tokenizer_vectors.js): 1,000 random strings over all of Unicode, and every code point whose class
// PCRE2 10.42 and Hugging Face disagree on (13,738), beside letters, digits, apostrophes and spaces.
std::vector<test::VectorRow> unicode_vectors(const std::string& family) {
  auto rows = test::read_jsonl_vectors(std::string(OPTIPFAIR_TEST_DATA_DIR) + "/tokenizer/data/hf_unicode_" + family + ".jsonl");
  EXPECT_GT(rows.size(), 4000u) << family;
  return rows;
}

TEST(TokenizerVectors, AllOfUnicodeLlama3Forms) {
  REQUIRE_FILES("tokenizers/llama3/tokenizer.json", "tokenizers/gguf/llama3-vocab.gguf");
  const auto rows = unicode_vectors("llama3");
  check_rows("tokenizers/llama3/tokenizer.json", rows);
  check_rows("tokenizers/variants/llama3-merges-as-strings/tokenizer.json", rows);
  check_rows("tokenizers/gguf/llama3-vocab.gguf", rows);
}

TEST(TokenizerVectors, AllOfUnicodeLlama2Forms) {
  REQUIRE_FILES("tokenizers/llama2/tokenizer.json", "tokenizers/llama2/tokenizer.model",
                "tokenizers/llama.cpp-vectors/ggml-vocab-llama-spm.gguf");
  const auto rows = unicode_vectors("llama2");
  check_rows("tokenizers/llama2/tokenizer.json", rows);
  check_rows("tokenizers/llama2/tokenizer.model", rows);
  check_rows("tokenizers/llama.cpp-vectors/ggml-vocab-llama-spm.gguf", rows);
}

// Gemma's tokenizer.json form (tests/tokenizer/data/gemma_style, made and encoded by Hugging Face
// tokenizers: tools/hf_tokenizers/gemma_style_tokenizer.js): no "▁" prefix, spaces replaced by the
// normalizer, a no-op Split, byte fallback, Gemma's special-token ids, <bos> from the template.
TEST(TokenizerVectors, GemmaStyleTokenizerJson) {
  const std::string dir = std::string(OPTIPFAIR_TEST_DATA_DIR) + "/tokenizer/data/gemma_style";
  const auto tok = load_tokenizer(dir + "/tokenizer.json");
  // Hugging Face splits out special-token text even without special tokens added: those rows are
  // checked with parse_special, the rest as plain text.
  std::vector<test::VectorRow> plain, with_special;
  for (auto& row : test::read_jsonl_vectors(dir + "/vectors.jsonl"))
    (row.text.find("_of_turn>") != std::string::npos || row.text.find("<bos>") != std::string::npos ? with_special : plain)
        .push_back(std::move(row));
  check_rows(*tok, "gemma_style/tokenizer.json", plain);
  ASSERT_EQ(with_special.size(), 3u);
  for (const auto& row : with_special)
    EXPECT_EQ(tok->encode(row.text, EncodeOptions{false, true}), row.ids) << escape_visible(row.text);
  EXPECT_EQ(tok->bos_id(), 2);
  const std::vector<int32_t> with_bos = tok->encode("The doctor", EncodeOptions{true, false});
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos.front(), 2);
  EXPECT_EQ(std::vector<int32_t>(with_bos.begin() + 1, with_bos.end()), tok->encode("The doctor", EncodeOptions{false, false}));
}

TEST(TokenizerVectors, Stories260KTokenizerJson) {
  REQUIRE_FILES("models/stories260K/tokenizer.json");
  check_rows("models/stories260K/tokenizer.json", jsonl("stories260K.jsonl"));
}

TEST(TokenizerVectors, Stories260KTok512MatchesRunC) {
  REQUIRE_FILES("models/stories260K/tok512.bin");
  check_rows("models/stories260K/tok512.bin", jsonl("stories260K.jsonl"), Expect::RunC);
}

TEST(TokenizerVectors, Stories260KCheckpointFindsTok512) {
  REQUIRE_FILES("models/stories260K/stories260K.bin");
  auto tok = load_tokenizer(shared_path("models/stories260K/stories260K.bin"));
  EXPECT_NE(tok->description().find("tok512.bin"), std::string::npos) << tok->description();
  EXPECT_EQ(tok->vocab_size(), 512);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_ids(), std::vector<int32_t>{2});
  auto ids = tok->encode("Once upon a time");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(tok->decode(ids, true), "Once upon a time");
}

TEST(TokenizerVectors, DemoModelSamples) {
  const std::filesystem::path demo = OPTIPFAIR_DEMO_MODEL;
  OPTIPFAIR_REQUIRE_SHARED(demo / "samples.json");
  auto tok = load_tokenizer(demo);
  auto samples = nlohmann::json::parse(test::read_text_file(demo / "samples.json"));
  int checked = 0;
  for (const auto& s : samples["samples"]) {
    auto prompt_ids = s["prompt_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok->encode(s["prompt"].get<std::string>()), prompt_ids) << s["prompt"];
    auto new_ids = s["new_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok->decode(new_ids), s["continuation"].get<std::string>());
    ++checked;
  }
  EXPECT_GT(checked, 0);
  EXPECT_EQ(tok->bos_id(), 8192);
  EXPECT_TRUE(tok->is_eos(8193));
  EXPECT_TRUE(tok->is_special(8192));
  EXPECT_FALSE(tok->is_special(258));
}

TEST(TokenizerVectors, SpecialIdsAndBosFromConfig) {
  REQUIRE_FILES("tokenizers/llama3/tokenizer.json", "tokenizers/llama2/tokenizer.json", "tokenizers/llama2/tokenizer.model");
  const Tokenizer& l3 = cached("tokenizers/llama3/tokenizer.json");
  EXPECT_EQ(l3.vocab_size(), 128256);
  EXPECT_EQ(l3.bos_id(), 128000);
  EXPECT_TRUE(l3.is_eos(128001));
  EXPECT_EQ(l3.encode("hi"), (std::vector<int32_t>{128000, 6151}));
  EXPECT_EQ(l3.token_text(6151), "hi");
  EXPECT_EQ(l3.decode(std::vector<int32_t>{128000, 6151}), "<|begin_of_text|>hi");
  EXPECT_EQ(l3.decode(std::vector<int32_t>{128000, 6151}, true), "hi");
  for (const char* rel : {"tokenizers/llama2/tokenizer.json", "tokenizers/llama2/tokenizer.model"}) {
    const Tokenizer& l2 = cached(rel);
    EXPECT_EQ(l2.vocab_size(), 32000) << rel;
    EXPECT_EQ(l2.bos_id(), 1) << rel;
    EXPECT_EQ(l2.eos_ids(), std::vector<int32_t>{2}) << rel;
    auto ids = l2.encode("Hello world");
    ASSERT_EQ(ids.size(), 3u) << rel;
    EXPECT_EQ(ids[0], 1) << rel;
    EXPECT_EQ(l2.decode(ids, true), "Hello world") << rel;
  }
}

}  // namespace
}  // namespace optipfair
