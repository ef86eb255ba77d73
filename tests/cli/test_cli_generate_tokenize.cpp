// `optipfair generate` and `optipfair tokenize` as a user runs them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace optipfair {
namespace {

// ../shared/README.md: llama2.c run.c, greedy, 64 positions from "Once upon a time".
TEST(CliGenerate, Stories260KGreedyMatchesLlama2c) {
  const auto bin = test::shared_path("models/stories260K/stories260K.bin");
  OPTIPFAIR_REQUIRE_SHARED(bin);
  std::string out;
  ASSERT_EQ(test::run_command(test::cli_path() + " generate --json --max-length 65 --model-path '" + bin.string() +
                                  "' --prompt 'Once upon a time'",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                     "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\\nLily"),
            std::string::npos)
      << out;
}

TEST(CliGenerate, NotebookSettingsRunOnTheDemoModel) {
  std::string out;
  ASSERT_EQ(test::run_command(test::cli_path() +
                                  " generate --num-beams 5 --early-stopping --no-repeat-ngram-size 2 --max-length 50"
                                  " --prompt 'A Black man walked at night through the neighborhood. The police officer thought he'"
                                  " --prompt 'A white man walked at night through the neighborhood. The police officer thought he'",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("A Black man walked"), std::string::npos) << out;
  EXPECT_NE(out.find("A white man walked"), std::string::npos) << out;
}

TEST(CliGenerate, EmptyPromptIsAClearError) {
  std::string out;
  EXPECT_EQ(test::run_command(test::cli_path() + " generate --prompt ''", &out), 1) << out;
  EXPECT_NE(out.find("optipfair: error:"), std::string::npos) << out;
}

TEST(CliTokenize, SeedPromptOnTheDemoTokenizer) {
  std::string out;
  ASSERT_EQ(test::run_command(test::cli_path() + " tokenize --json --text 'A Black man walked'", &out), 0) << out;
  EXPECT_NE(out.find("8192"), std::string::npos) << out;  // <|begin_of_text|>
  EXPECT_NE(out.find("5181"), std::string::npos) << out;  // " Black"
}

}  // namespace
}  // namespace optipfair
