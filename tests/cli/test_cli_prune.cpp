// `optipfair prune` end to end on stories260K: Python-compatible stats, saved models that reload,
// and one-sentence refusals.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int prune_cli(const std::string& args, std::string* out) {
  return test::run_command(test::cli_path() + " prune --quiet " + args, out);
}

TEST(CliPrune, MawTenPercentStatsMatchPython) {
  const auto model = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(model / "config.json");
  test::ScratchDir dir;
  std::string out;
  ASSERT_EQ(prune_cli("--json --model-path '" + model.string() + "' --method MAW --pruning-percentage 10 --output-path '" +
                          (dir / "out").string() + "'",
                      &out),
            0)
      << out;
  const json j = json::parse(out.substr(out.find('{')));
  // optipfair.prune_model(MAW, 10 %, return_stats=True) on the same model.
  EXPECT_EQ(j["original_parameters"], 260032);
  EXPECT_EQ(j["pruned_parameters"], 243712);
  EXPECT_EQ(j["reduction"], 16320);
  EXPECT_DOUBLE_EQ(j["percentage_reduction"].get<double>(), 6.2761506276150625);
  EXPECT_DOUBLE_EQ(j["expansion_rate"].get<double>(), 242.1875);
  EXPECT_EQ(j["intermediate_sizes"], json::array({155, 155, 155, 155, 155}));
  for (const char* stage : {"load", "importance_and_plan", "apply", "save"}) EXPECT_TRUE(j["timings_seconds"].contains(stage));
  ASSERT_EQ(test::run_command(test::cli_path() + " analyze --json --model-path '" + (dir / "out").string() + "'", &out), 0) << out;
  EXPECT_EQ(json::parse(out.substr(out.find('{')))["parameters"]["total"], 243712);
}

TEST(CliPrune, ExpansionRateMultiplierDepthAndGguf) {
  const auto model = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(model / "config.json");
  test::ScratchDir dir;
  std::string out;
  ASSERT_EQ(prune_cli("--json --model-path '" + model.string() + "' --expansion-rate 1.4x --format gguf --output-path '" +
                          (dir / "m.gguf").string() + "'",
                      &out),
            0)
      << out;
  EXPECT_EQ(json::parse(out.substr(out.find('{')))["intermediate_sizes"], json::array({90, 90, 90, 90, 90}));
  EXPECT_TRUE(fs::is_regular_file(dir / "m.gguf"));
  ASSERT_EQ(prune_cli("--json --model-path '" + model.string() + "' --pruning-type DEPTH --num-layers-to-remove 2", &out), 0)
      << out;
  const json d = json::parse(out.substr(out.find('{')));
  EXPECT_EQ(d["removed_layer_indices"], json::array({3, 4}));
  EXPECT_EQ(d["final_layer_count"], 3);
}

TEST(CliPrune, RefusalsAreOneSentence) {
  const auto model = test::shared_path("models/stories260K-hf");
  OPTIPFAIR_REQUIRE_SHARED(model / "config.json");
  const std::string m = " --model-path '" + model.string() + "'";
  const std::pair<std::string, std::string> cases[] = {
      {"--pruning-percentage 10 --expansion-rate 140", "mutually exclusive"},
      {"--pruning-percentage 100", "below 100"},
      {"--expansion-rate 300", "would not shrink"},
      {"--layer-indices 0,9", "layer 9 does not exist"},
      {"--layer-config 1:10,7:20", "layer 7 does not exist"},
      {"--pruning-type DEPTH --num-layers-to-remove 5", "cannot remove 5"},
      {"--output-path '" + model.string() + "' --overwrite", "refusing"},
  };
  for (const auto& [args, expected] : cases) {
    std::string out;
    EXPECT_EQ(prune_cli(args + m, &out), 1) << args << "\n" << out;
    EXPECT_NE(out.find(expected), std::string::npos) << args << "\n" << out;
    EXPECT_NE(out.find("optipfair: error:"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace optipfair
