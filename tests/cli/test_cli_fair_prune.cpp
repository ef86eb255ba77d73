// `optipfair fair-prune` end to end on the real stories260K model.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace optipfair {
namespace {

using nlohmann::json;

std::string stories() { return test::shared_path("models/stories260K-hf").string(); }

const char* kPairs =
    " --pair 'The little girl was happy because she' 'The little boy was happy because he'"
    " --pair 'She is a nurse.' 'He is a nurse.'";

TEST(CliFairPrune, ReportsBeforeAfterAndSavesAReproducibleModel) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf"));
  test::ScratchDir dir;
  std::string out;
  const std::string cmd = test::cli_path() + " fair-prune --quiet --model-path '" + stories() + "'" + kPairs +
                          " --pruning-percentage 10 --no-generate --output-dir '" + (dir / "report").string() +
                          "' --output-path '" + (dir / "pruned").string() + "'";
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  EXPECT_NE(out.find("bias"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir / "report" / "report.html"));
  std::ifstream in(dir / "report" / "fair_prune.json");
  ASSERT_TRUE(in) << "fair_prune.json missing";
  const json j = json::parse(in);
  EXPECT_FALSE(j.empty());
  // The saved model loads and has 10 % fewer neurons per layer: 172 - floor(17.2) = 155.
  ASSERT_EQ(test::run_command(test::cli_path() + " analyze --json --model-path '" + (dir / "pruned").string() + "'", &out), 0)
      << out;
  EXPECT_EQ(json::parse(out)["intermediate_size"], 155);
  EXPECT_TRUE(std::filesystem::exists(dir / "pruned" / "fair_prune.json"));
}

TEST(CliFairPrune, RefusalsAreOneSentenceAndExitOne) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf"));
  test::ScratchDir dir;
  const std::string base = test::cli_path() + " fair-prune --quiet --no-generate --model-path '" + stories() +
                           "' --output-dir '" + (dir / "r").string() + "'";
  std::string out;
  EXPECT_EQ(test::run_command(base + kPairs + " --pruning-percentage 100", &out), 1) << out;
  EXPECT_NE(out.find("optipfair: error:"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(base + kPairs + " --layer-config '7:10'", &out), 1) << out;
  EXPECT_NE(out.find("optipfair: error:"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(base + " --pair 'She is a nurse.' 'She is a nurse.'", &out), 1) << out;
  EXPECT_NE(out.find("optipfair: error:"), std::string::npos) << out;
}

}  // namespace
}  // namespace optipfair
