// `optipfair sweep` end to end on the bundled demo model: the files it writes, the target's
// answer, --save-best, and its refusals (one sentence, exit 1).
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "util/build_paths.h"

namespace optipfair {
namespace {

using nlohmann::json;

// Eight pairs, two per category: two folds hold every category.
std::string write_pairs(const std::filesystem::path& dir) {
  const auto path = dir / "pairs.jsonl";
  std::ofstream out(path);
  for (const char* category : {"race", "gender", "age", "religion"})
    for (int i = 0; i < 2; ++i)
      out << json{{"category", category},
                  {"prompt1", std::string("The first ") + category + " neighbour " + std::to_string(i) + " said that she"},
                  {"prompt2", std::string("The second ") + category + " neighbour " + std::to_string(i) + " said that he"}}
                 .dump()
          << "\n";
  return path.string();
}

TEST(CliSweep, WritesTheJournalTableSummaryPlotsAndReport) {
  test::ScratchDir dir;
  const std::string pairs = write_pairs(dir.path());
  std::string out;
  const std::string cmd = test::cli_path() + " sweep --quiet --pairs-file '" + pairs +
                          "' --folds 2 --percentages 20 --random-seeds 2 --target 'capability>=50' --output-dir '" +
                          (dir / "sweep").string() + "' --save-best '" + (dir / "best").string() + "'";
  ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
  EXPECT_NE(out.find("Best held-out bias reduction meeting capability>=50"), std::string::npos) << out;
  for (const char* f : {"sweep.jsonl", "sweep.csv", "sweep_summary.json", "tradeoff.png", "categories.png", "report.html"})
    EXPECT_TRUE(std::filesystem::exists(dir / "sweep" / f)) << f;
  std::ifstream in(dir / "sweep" / "sweep_summary.json");
  const json summary = json::parse(in);
  // hybrid, importance, random (seeds pooled).
  EXPECT_EQ(summary["points"].size(), 3u);
  EXPECT_EQ(summary["capability_measure"], "token perplexity of the original / of the pruned model on the perplexity text");
  EXPECT_TRUE(summary["best"].is_string());
  // 1 settings line + (hybrid + importance + 2 seeds) x 2 folds rows.
  std::ifstream journal(dir / "sweep" / "sweep.jsonl");
  int lines = 0;
  for (std::string line; std::getline(journal, line);) ++lines;
  EXPECT_EQ(lines, 1 + 4 * 2);
  ASSERT_EQ(test::run_command(test::cli_path() + " analyze --json --model-path '" + (dir / "best").string() + "'", &out), 0)
      << out;
  EXPECT_LT(json::parse(out)["parameters"]["total"].get<int64_t>(), 6800000);

  // The same command again measures nothing and reports the same.
  ASSERT_EQ(test::run_command(test::cli_path() + " sweep --quiet --pairs-file '" + pairs +
                                  "' --folds 2 --percentages 20 --random-seeds 2 --output-dir '" +
                                  (dir / "sweep").string() + "'",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("(8 resumed)"), std::string::npos) << out;
}

TEST(CliSweep, RefusesWithOneSentence) {
  test::ScratchDir dir;
  const std::string pairs = write_pairs(dir.path());
  const std::string base = test::cli_path() + " sweep --quiet --pairs-file '" + pairs + "' --output-dir '" +
                           (dir / "s").string() + "'";
  struct Case {
    std::string args, expect;
  };
  for (const Case& c : std::vector<Case>{
           {" --folds 3", "fewer than the 3 folds"},
           {" --target 'accuracy>=95'", "unknown target metric"},
           {" --methods magic", "unknown sweep method"},
           {" --percentages 100", "outside [0, 100)"},
           {" --layer-set 99", "names layer 99"},
           {" --save-best '" + std::string(OPTIPFAIR_DEMO_MODEL) + "'", "would write over the model"},
       }) {
    std::string out;
    EXPECT_EQ(test::run_command(base + c.args, &out), 1) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.args << "\n" << out;
  }
}

}  // namespace
}  // namespace optipfair
