// optipfair bias end to end: files written, --json output, and one-sentence errors for bad input.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace optipfair {
namespace {

std::string model() { return test::shared_path("models/stories260K-hf").string(); }

TEST(CliBias, WritesMetricsPlotsAndReport) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"));
  test::ScratchDir dir;
  std::string out;
  const int rc = test::run_command(test::cli_path() + " bias --model-path " + model() +
                                       " --pair 'She is a nurse.' 'He is a nurse.' --pair 'Lily went to the park. She' 'Tom went to the park. He'"
                                       " --layers 0 --format svg --json --quiet --output-dir " + dir.path().string(),
                                   &out);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(j["sequences_processed"], 4);
  EXPECT_EQ(j["forward_calls"], 1);
  for (const char* f : {"bias_metrics.json", "bias_summary.json", "neuron_bias_scores.json", "report.html",
                        "mean_diff_mlp_output_pair0.svg", "heatmap_gate_proj_0_pair1.svg", "pca_attention_output_0_pair0.svg"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  std::ifstream in(dir / "bias_metrics.json");
  const auto m = nlohmann::json::parse(in);
  EXPECT_TRUE(m["pair_1"]["metrics"].contains("overall_metrics"));
  EXPECT_TRUE(m["pair_2"]["metrics"].empty());
  EXPECT_EQ(m["pair_2"]["alignment"]["method"], "lcs_pooled");
}

TEST(CliBias, BadInputExitsOneWithASentence) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"));
  test::ScratchDir dir;
  const std::string base = test::cli_path() + " bias --quiet --model-path " + model() + " --output-dir " + dir.path().string();
  struct Case {
    std::string args, message;
  } cases[] = {
      {" --pair '' 'He is a nurse.'", "prompt 1 of pair 1 is empty"},
      {" --pair 'a' 'b' --components mlp_outptu", "unknown component 'mlp_outptu'"},
      {" --pair 'a' 'b' --layers 9", "out of range"},
      {" --pair 'a' 'b' --plots bars", "unknown plot 'bars'"},
      {" --pair 'a' 'b' --format gif", "gif"},
      {" --template 'The {attribute} x' --category planets", "unknown attribute category 'planets'"},
  };
  for (const Case& c : cases) {
    std::string out;
    EXPECT_EQ(test::run_command(base + c.args, &out), 1) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << c.args << "\n" << out;
  }
}

TEST(CliBias, IdenticalPairIsSaidPlainly) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"));
  test::ScratchDir dir;
  std::string out;
  ASSERT_EQ(test::run_command(test::cli_path() + " bias --quiet --plots none --model-path " + model() +
                                  " --pair 'She is a nurse.' 'She is a nurse.' --output-dir " + dir.path().string(),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("identical, so every difference is 0"), std::string::npos) << out;
  EXPECT_NE(out.find("0.000000"), std::string::npos) << out;
}

}  // namespace
}  // namespace optipfair
