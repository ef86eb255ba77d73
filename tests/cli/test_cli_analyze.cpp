// `optipfair analyze` on real models in every format.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/gguf_file.h"
#include "test_support.h"

namespace optipfair {
namespace {

using nlohmann::json;

json analyze_json(const std::string& model) {
  std::string out;
  const int rc = test::run_command(test::cli_path() + " analyze --json --model-path '" + model + "'", &out);
  EXPECT_EQ(rc, 0) << out;
  return json::parse(out);
}

// llama2.c's stories260K: 260,032 parameters in its file (tied embeddings counted once).
TEST(CliAnalyze, Stories260KInBothFormats) {
  for (const char* rel : {"models/stories260K/stories260K.bin", "models/stories260K-hf"}) {
    const auto path = test::shared_path(rel);
    OPTIPFAIR_REQUIRE_SHARED(path);
    const json j = analyze_json(path.string());
    EXPECT_EQ(j["parameters"]["total"], 260032) << rel;
    EXPECT_EQ(j["parameters"]["embeddings"], 512 * 64);
    EXPECT_EQ(j["parameters"]["lm_head"], 0);
    EXPECT_EQ(j["parameters"]["mlp"], 5 * 3 * 172 * 64);
    EXPECT_EQ(j["intermediate_size"], 172);
    EXPECT_NEAR(j["expansion_ratio"].get<double>(), 172.0 / 64.0, 1e-12);
    EXPECT_EQ(j["num_key_value_heads"], 4);
    // 10 % of 172 neurons is 17 per layer (truncated), each 3 x 64 parameters.
    EXPECT_EQ(j["pruning_savings"][0]["neurons_removed"], 5 * 17);
    EXPECT_EQ(j["pruning_savings"][0]["parameters_removed"], 5 * 17 * 3 * 64);
  }
}

// The GGUF fixture: every tensor in the file is a parameter, so the total is their sum.
TEST(CliAnalyze, GgufFixtureCountsEveryTensor) {
  const auto path = test::shared_path("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
  OPTIPFAIR_REQUIRE_SHARED(path);
  const GgufFile gguf = GgufFile::open(path);
  int64_t sum = 0;
  for (const auto& t : gguf.tensors()) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    sum += n;
  }
  const json j = analyze_json(path.string());
  EXPECT_EQ(j["parameters"]["total"], sum);
  EXPECT_EQ(j["vocab_size"], 32000);
  EXPECT_EQ(j["num_hidden_layers"], 1);
  EXPECT_EQ(j["hidden_size"], 8);
  EXPECT_EQ(j["dtype"], "F16");
}

TEST(CliAnalyze, BundledDemoModelIsTheDefault) {
  std::string out;
  ASSERT_EQ(test::run_command(test::cli_path() + " analyze --json", &out), 0) << out;
  const json j = json::parse(out);
  EXPECT_EQ(j["parameters"]["total"], 6835456);  // models/demo/README.md
  EXPECT_EQ(j["dtype"], "BF16");
  EXPECT_EQ(j["intermediate_size"], 768);
}

TEST(CliAnalyze, TextOutputHasThePruningTable) {
  std::string out;
  ASSERT_EQ(test::run_command(test::cli_path() + " analyze", &out), 0) << out;
  EXPECT_NE(out.find("Pruning MLP neurons"), std::string::npos) << out;
  EXPECT_NE(out.find("50%"), std::string::npos) << out;
}

TEST(CliAnalyze, MissingModelIsOneSentenceAndExitOne) {
  std::string out;
  EXPECT_EQ(test::run_command(test::cli_path() + " analyze --model-path /nonexistent/model", &out), 1);
  EXPECT_NE(out.find("optipfair: error: no model at '/nonexistent/model'"), std::string::npos) << out;
}

TEST(CliAnalyze, BadGgufMagicIsAClearError) {
  test::ScratchDir dir;
  const std::string path = (dir / "bad.gguf").string();
  std::string out;
  test::run_command("printf 'GGUX0000000000000000000000' > '" + path + "'", nullptr);
  EXPECT_EQ(test::run_command(test::cli_path() + " analyze --model-path '" + path + "'", &out), 1);
  EXPECT_NE(out.find("GGUF"), std::string::npos) << out;
}

}  // namespace
}  // namespace optipfair
