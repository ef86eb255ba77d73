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
  // 5 layers x 17 neurons x 3 matrices x 64 wide.
  EXPECT_EQ(j["parameters_removed"], 5 * 17 * 3 * 64);
  EXPECT_EQ(j["parameters_before"], 260032);
  EXPECT_EQ(j["per_layer_before"].size(), 5u);
  // The "before" figures and the scores are those `optipfair bias` measures on the same pairs.
  ASSERT_EQ(test::run_command(test::cli_path() + " bias --quiet --json --plots none --no-report --model-path '" +
                                  stories() + "'" + kPairs + " --output-dir '" + (dir / "bias").string() + "'",
                              &out),
            0)
      << out;
  EXPECT_DOUBLE_EQ(j["mean_difference_before"].get<double>(), json::parse(out)["all_pairs"]["mean_difference"].get<double>());
  std::ifstream scores_fair(dir / "report" / "neuron_bias_scores.json"), scores_bias(dir / "bias" / "neuron_bias_scores.json");
  ASSERT_TRUE(scores_fair && scores_bias);
  EXPECT_EQ(json::parse(scores_fair), json::parse(scores_bias));
  EXPECT_LT(j["mean_difference_after"].get<double>(), j["mean_difference_before"].get<double>());
  // The saved model loads and has 10 % fewer neurons per layer: 172 - floor(17.2) = 155.
  ASSERT_EQ(test::run_command(test::cli_path() + " analyze --json --model-path '" + (dir / "pruned").string() + "'", &out), 0)
      << out;
  EXPECT_EQ(json::parse(out)["intermediate_size"], 155);
  EXPECT_TRUE(std::filesystem::exists(dir / "pruned" / "fair_prune.json"));
}

// --eval-tasks scores the model in memory before and after; the figures must be those
// `optipfair eval` gives for the original file and for the saved pruned model.
TEST(CliFairPrune, EvalTasksAndPerplexityBeforeAndAfter) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf"));
  const auto text = test::shared_path("data/tinystories-sample/tinystories_sample.txt");
  OPTIPFAIR_REQUIRE_SHARED(text);
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("data/boolq"));
  test::ScratchDir dir;
  std::string out;
  const std::string eval_flags = " --limit 6 --data-dir '" + test::shared_path("data").string() + "'";
  const std::string cmd = test::cli_path() + " fair-prune --quiet --json --model-path '" + stories() + "'" + kPairs +
                          " --pruning-percentage 20 --no-generate --output-dir '" + (dir / "report").string() +
                          "' --output-path '" + (dir / "pruned").string() + "' --perplexity-text '" + text.string() +
                          "' --eval-tasks boolq,crows_pairs --eval-limit 6 --data-dir '" +
                          test::shared_path("data").string() + "'";
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  const json j = json::parse(out);
  ASSERT_TRUE(j.contains("eval_tasks")) << out;
  const json& p = j["perplexity"];
  EXPECT_EQ(p["before"]["documents"], 5);
  EXPECT_GT(p["after"]["perplexity"].get<double>(), p["before"]["perplexity"].get<double>());
  EXPECT_GT(p["before"]["perplexity"].get<double>(), 1.0);

  auto eval = [&](const std::string& model) {
    std::string o;
    EXPECT_EQ(test::run_command(test::cli_path() + " eval --quiet --json --tasks boolq,crows_pairs --model-path '" +
                                    model + "'" + eval_flags,
                                &o),
              0)
        << o;
    return json::parse(o)["results"];
  };
  const json original = eval(stories()), pruned = eval((dir / "pruned").string());
  const json& mine = j["eval_tasks"];
  for (const char* task : {"boolq", "crows_pairs_english", "crows_pairs_english_gender"}) {
    SCOPED_TRACE(task);
    for (const auto& [key, value] : original[task].items()) {
      if (!value.is_number()) continue;
      EXPECT_NEAR(mine["original"]["results"][task][key].get<double>(), value.get<double>(), 1e-9) << key;
      EXPECT_NEAR(mine["pruned"]["results"][task][key].get<double>(), pruned[task][key].get<double>(), 1e-9) << key;
    }
  }
  EXPECT_TRUE(mine["comparison"].contains("boolq"));
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
  std::ofstream(dir / "empty.jsonl") << "\n";
  EXPECT_EQ(test::run_command(base + " --pairs-file '" + (dir / "empty.jsonl").string() + "'", &out), 1) << out;
  EXPECT_NE(out.find("holds no pairs"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(base + kPairs + " --eval-tasks boolq,nosuchtask", &out), 1) << out;
  EXPECT_NE(out.find("known tasks"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(base + kPairs + " --perplexity-text '" + (dir / "missing.txt").string() + "'", &out), 1)
      << out;
  EXPECT_NE(out.find("missing.txt"), std::string::npos) << out;
}

}  // namespace
}  // namespace optipfair
