// tools/make_synthetic_model --tokenizer: the random-weight model carries a real vocabulary, in
// the GGUF file's tokenizer.* keys or beside the HF folder, and the tool refuses a vocabulary
// larger than the preset's embedding.
#include <gtest/gtest.h>

#include <fstream>

#include "io/gguf_file.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;

std::string tool() { return test::tools_dir() + "/make_synthetic_model"; }

// A byte-level BPE ("Ġ" is the byte-level space) with `extra` more single-letter-pair pieces.
std::string byte_level_tokenizer(int extra) {
  std::string vocab = R"("a":0,"b":1,"c":2,"Ġ":3,"ab":4,"Ġa":5,"Ġab":6)";
  for (int i = 0; i < extra; ++i) vocab += ",\"x" + std::to_string(i) + "\":" + std::to_string(7 + i);
  return R"({"added_tokens":[{"id":)" + std::to_string(7 + extra) + R"(,"content":"<eos>","special":true}],
    "normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
    "post_processor":null,"decoder":{"type":"ByteLevel"},
    "model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":[["a","b"],["Ġ","a"],["Ġa","b"]]}})";
}

TEST(SyntheticModelVocab, GgufAndHfOutputsCarryTheTokenizer) {
  test::ScratchDir dir;
  fs::create_directories(dir / "tok");
  std::ofstream(dir / "tok" / "tokenizer.json") << byte_level_tokenizer(0);
  std::string log;
  ASSERT_EQ(test::run_command(tool() + " --preset tiny --dtype f32 --format gguf --tokenizer " + (dir / "tok").string() +
                                  " --output " + (dir / "m.gguf").string() + " 2>&1",
                              &log),
            0)
      << log;
  ASSERT_EQ(test::run_command(tool() + " --preset tiny --dtype f32 --format hf --tokenizer " +
                                  (dir / "tok" / "tokenizer.json").string() + " --output " + (dir / "hf").string() + " 2>&1",
                              &log),
            0)
      << log;
  EXPECT_TRUE(GgufFile::open(dir / "m.gguf").has("tokenizer.ggml.tokens"));
  const auto reference = load_tokenizer(dir / "tok");
  const std::string text = "ab cab abba c";
  const std::vector<int32_t> ids = reference->encode(text, {false, false});
  EXPECT_EQ(ids, std::vector<int32_t>({4, 3, 2, 4, 3, 4, 1, 0, 3, 2}));
  EXPECT_EQ(load_tokenizer(dir / "m.gguf")->encode(text, {false, false}), ids);
  EXPECT_EQ(load_tokenizer(dir / "hf")->encode(text, {false, false}), ids);
}

TEST(SyntheticModelVocab, AVocabularyLargerThanThePresetIsRefused) {
  test::ScratchDir dir;
  std::ofstream(dir / "tokenizer.json") << byte_level_tokenizer(300);
  std::string log;
  EXPECT_NE(test::run_command(tool() + " --preset tiny --format gguf --tokenizer " + dir.path().string() + " --output " +
                                  (dir / "m.gguf").string() + " 2>&1",
                              &log),
            0);
  EXPECT_NE(log.find("has 308 ids, more than the 256 embedding rows of the preset tiny"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir / "m.gguf"));
}

}  // namespace
}  // namespace optipfair
