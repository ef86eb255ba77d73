// The table and the JSON `optipfair eval` writes, from hand-made results: lm-eval's table layout
// and results JSON, and the side-by-side comparison of two different runs.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "eval/eval_report.h"

namespace optipfair {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

EvalRun hand_made_run(double boolq_acc, double word_perplexity) {
  EvalRun run;
  run.model_path = "models/demo";
  run.num_parameters = 6815744;
  run.seconds = 2.5;
  TaskResult wiki;
  wiki.task = "wikitext";
  wiki.samples = 1;
  wiki.available = 62;
  wiki.metrics = {{"word_perplexity", word_perplexity, kNaN, false}};
  TaskResult boolq;
  boolq.task = "boolq";
  boolq.num_fewshot = 1;
  boolq.samples = 4;
  boolq.available = 3270;
  boolq.skipped = 2;
  boolq.skipped_detail = "boolq/val.jsonl line 7";
  boolq.seconds = 0.5;
  boolq.metrics = {{"acc", boolq_acc, 0.25, true}};
  run.results = {wiki, boolq};
  return run;
}

TEST(EvalReport, TableAsLmEvalPrintsIt) {
  EXPECT_EQ(eval_table(hand_made_run(0.75, 316.49003400002931)),
            "|Tasks   |n-shot|Metric         | |Value   | |Stderr|\n"
            "|--------|------|---------------|-|--------|-|------|\n"
            "|wikitext|0     |word_perplexity|\xE2\x86\x93|316.4900|\xC2\xB1|N/A   |\n"
            "|boolq   |1     |acc            |\xE2\x86\x91|0.7500  |\xC2\xB1|0.2500|\n");
}

TEST(EvalReport, JsonHasLmEvalsLayoutAndOurCounts) {
  EvalOptions o;
  o.limit = 4;
  o.num_fewshot = 1;
  o.data_dir = "/data";
  const nlohmann::json j = eval_run_json(hand_made_run(0.75, 316.5), o);
  EXPECT_EQ(j["results"]["boolq"]["acc,none"], 0.75);
  EXPECT_EQ(j["results"]["boolq"]["acc_stderr,none"], 0.25);
  EXPECT_EQ(j["results"]["boolq"]["alias"], "boolq");
  EXPECT_EQ(j["results"]["wikitext"]["word_perplexity,none"], 316.5);
  EXPECT_EQ(j["results"]["wikitext"]["word_perplexity_stderr,none"], "N/A");
  EXPECT_EQ(j["higher_is_better"]["boolq"]["acc"], true);
  EXPECT_EQ(j["higher_is_better"]["wikitext"]["word_perplexity"], false);
  EXPECT_EQ(j["n-samples"]["boolq"],
            (nlohmann::json{{"original", 3270}, {"effective", 4}, {"skipped", 2}, {"first_skipped", "boolq/val.jsonl line 7"}}));
  EXPECT_EQ(j["n-samples"]["wikitext"], (nlohmann::json{{"original", 62}, {"effective", 1}}));
  EXPECT_EQ(j["n-shot"]["boolq"], 1);
  EXPECT_EQ(j["task_seconds"]["boolq"], 0.5);
  EXPECT_EQ(j["config"]["model"], "models/demo");
  EXPECT_EQ(j["config"]["model_num_parameters"], 6815744);
  EXPECT_EQ(j["config"]["limit"], 4);
  EXPECT_TRUE(j["config"]["max_length"].is_null());
  EXPECT_EQ(j["config"]["data_dir"], "/data");
}

TEST(EvalReport, ComparisonShowsPrunedMinusOriginal) {
  const EvalRun original = hand_made_run(0.75, 316.5), pruned = hand_made_run(0.625, 320.25);
  EXPECT_EQ(eval_compare_table(original, pruned),
            "|Tasks   |Metric         | |original|pruned  |diff   |\n"
            "|--------|---------------|-|--------|--------|-------|\n"
            "|wikitext|word_perplexity|\xE2\x86\x93|316.5000|320.2500|+3.7500|\n"
            "|boolq   |acc            |\xE2\x86\x91|0.7500  |0.6250  |-0.1250|\n");
  const nlohmann::json j = eval_compare_json(original, pruned);
  EXPECT_EQ(j["boolq"]["acc"], (nlohmann::json{{"original", 0.75}, {"pruned", 0.625}, {"diff", -0.125}}));
  EXPECT_EQ(j["wikitext"]["word_perplexity"]["diff"], 3.75);
  // A metric the pruned run lacks compares as N/A, not as a number.
  EvalRun without = pruned;
  without.results.pop_back();
  EXPECT_EQ(eval_compare_json(original, without)["boolq"]["acc"]["pruned"], "N/A");
}

}  // namespace
}  // namespace optipfair
