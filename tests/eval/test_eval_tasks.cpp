// Every task end to end on a random-weight model (numbers must sit near chance), the table and
// JSON it writes, and the refusals: a missing data file, a malformed line, an unknown task.
#include <cmath>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "eval/eval_report.h"
#include "eval/eval_tasks.h"
#include "eval/eval_text.h"
#include "eval/loglikelihood.h"
#include "eval_test_model.h"
#include "test_support.h"
#include "util/build_paths.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> demo_tokenizer() { return load_tokenizer(fs::path(OPTIPFAIR_DEMO_MODEL)); }

double metric(const std::vector<TaskResult>& rs, const std::string& task, const std::string& name) {
  for (const auto& r : rs)
    if (r.task == task)
      for (const auto& m : r.metrics)
        if (m.name == name) return m.value;
  ADD_FAILURE() << "no " << task << " " << name;
  return std::nan("");
}

EvalOptions quiet_options(const fs::path& data, const std::string& task, int64_t limit) {
  EvalOptions o;
  o.tasks = {task};
  o.limit = limit;
  o.data_dir = data;
  o.progress = false;
  return o;
}

TEST(EvalTasks, AllTasksOnARandomModelSitNearChance) {
  const fs::path data = test::shared_path("data");
  OPTIPFAIR_REQUIRE_SHARED(data / "boolq/val.jsonl");
  if (!fs::exists(fs::path(OPTIPFAIR_DEMO_MODEL) / "tokenizer.json")) GTEST_SKIP() << "demo model missing";
  const auto tok = demo_tokenizer();
  const Model model = test::synthetic_model_for_vocab(tok->vocab_size() + 64, 11);
  EvalOptions o;
  o.tasks = {"all"};
  o.limit = 20;
  o.data_dir = data;
  o.batch_size = 16;
  o.bootstrap_iters = 100;
  o.progress = false;
  const std::vector<TaskResult> rs = run_eval_tasks(model, *tok, o);
  for (const auto& r : rs) std::printf("%s: %.2f s\n", r.task.c_str(), r.seconds);

  // WikiText: a random model spreads its probability evenly, so a token costs about ln V nats
  // and bits per byte is tokens * log2 V / bytes.
  {
    std::ifstream in(data / "wikitext-2-raw/wiki.test.raw", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto pages = wikitext_split_documents(ss.str());
    pages.resize(20);
    double tokens = 0, bytes = 0;
    for (const auto& p : pages) {
      tokens += static_cast<double>(encode_plain(*tok, wikitext_detokenize(p)).size());
      bytes += static_cast<double>(p.size());
    }
    const double chance_bpb = tokens * std::log2(static_cast<double>(model.config.vocab_size)) / bytes;
    EXPECT_NEAR(metric(rs, "wikitext", "bits_per_byte"), chance_bpb, 0.05 * chance_bpb);
    EXPECT_GT(metric(rs, "wikitext", "word_perplexity"), 1000.0);
  }
  EXPECT_LE(metric(rs, "lambada_openai", "acc"), 0.1);
  EXPECT_GT(metric(rs, "lambada_openai", "perplexity"), model.config.vocab_size / 4.0);
  const double boolq = metric(rs, "boolq", "acc");
  EXPECT_GE(boolq, 0.15);
  EXPECT_LE(boolq, 0.85);
  for (const char* arc : {"arc_easy", "arc_challenge"}) {
    EXPECT_LE(metric(rs, arc, "acc"), 0.6) << arc;
    EXPECT_LE(metric(rs, arc, "acc_norm"), 0.6) << arc;
  }
  const double stereo = metric(rs, "crows_pairs_english", "pct_stereotype");
  EXPECT_GE(stereo, 0.2);
  EXPECT_LE(stereo, 0.8);
  EXPECT_GT(metric(rs, "crows_pairs_english", "likelihood_diff"), 0.0);
  for (const char* m : {"amb_bias_score", "disamb_bias_score", "amb_bias_score_Age", "disamb_bias_score_Religion"}) {
    const double v = metric(rs, "bbq", m);
    EXPECT_GE(v, -1.0) << m;
    EXPECT_LE(v, 1.0) << m;
  }
  for (const char* m : {"pct_pro_preferred", "acc_pro", "acc_anti", "pct_pro_preferred_type1", "acc_pro_type2"}) {
    const double v = metric(rs, "winobias", m);
    EXPECT_GE(v, 0.1) << m;
    EXPECT_LE(v, 0.9) << m;
  }
  EXPECT_LE(std::abs(metric(rs, "winobias", "acc_gap")), 0.5);

  // Each task evaluated its 20 items (bbq: 20 per category present; winobias: 20 pairs per type).
  std::map<std::string, int64_t> samples;
  for (const auto& r : rs) samples[r.task] = r.samples;
  EXPECT_EQ(samples["boolq"], 20);
  EXPECT_EQ(samples["wikitext"], 20);
  EXPECT_EQ(samples["winobias"], 40);
  EXPECT_EQ(samples["bbq"] % 20, 0);
  EXPECT_TRUE(samples.count("crows_pairs_english_race_color"));

  EvalRun run;
  run.model_path = "synthetic";
  run.results = rs;
  const std::string table = eval_table(run);
  EXPECT_NE(table.find("|boolq"), std::string::npos);
  EXPECT_NE(table.find("word_perplexity"), std::string::npos);
  const nlohmann::json j = eval_run_json(run, o);
  EXPECT_TRUE(j["results"]["boolq"]["acc,none"].is_number());
  EXPECT_TRUE(j["results"]["boolq"]["acc_stderr,none"].is_number());
  EXPECT_EQ(j["n-samples"]["boolq"]["effective"], 20);
  const std::string cmp = eval_compare_table(run, run);
  EXPECT_NE(cmp.find("+0.0000"), std::string::npos);
}

TEST(EvalTasks, FewShotExamplesGoInFrontAndAreSeeded) {
  const fs::path data = test::shared_path("data");
  OPTIPFAIR_REQUIRE_SHARED(data / "arc/ARC-Easy-Dev.jsonl");
  const auto tok = demo_tokenizer();
  const Model model = test::synthetic_model_for_vocab(tok->vocab_size() + 64, 12);
  EvalOptions o = quiet_options(data, "arc_easy", 5);
  o.num_fewshot = 2;
  const auto a = run_eval_tasks(model, *tok, o);
  const auto b = run_eval_tasks(model, *tok, o);
  EXPECT_EQ(a[0].num_fewshot, 2);
  EXPECT_EQ(a[0].metrics[0].value, b[0].metrics[0].value);
}

// The request log holds what lm-eval would score for BoolQ: per item, the prompt's tokens with
// " no" and then " yes" after them, with the results the task's accuracy came from.
TEST(EvalTasks, RequestLogHoldsEachRequestScoredAndItsResult) {
  const fs::path data = test::shared_path("data");
  OPTIPFAIR_REQUIRE_SHARED(data / "boolq/val.jsonl");
  const auto tok = demo_tokenizer();
  const Model model = test::synthetic_model_for_vocab(tok->vocab_size() + 64, 13);
  LoglikelihoodLog log;
  EvalOptions o = quiet_options(data, "boolq", 3);
  o.request_log = &log;
  const auto rs = run_eval_tasks(model, *tok, o);
  ASSERT_EQ(log.requests.size(), 6u);
  ASSERT_EQ(log.results.size(), 6u);
  double correct = 0;
  std::ifstream in(data / "boolq/val.jsonl");
  for (size_t item = 0; item < 3; ++item) {
    const auto& no = log.requests[2 * item];
    const auto& yes = log.requests[2 * item + 1];
    EXPECT_EQ(no.context, yes.context);
    EXPECT_EQ(tok->decode(no.continuation), " no");
    EXPECT_EQ(tok->decode(yes.continuation), " yes");
    EXPECT_NE(tok->decode(no.context).find("\nQuestion: "), std::string::npos);
    std::string line;
    std::getline(in, line);
    const bool label_yes = line.find("\"label\": \"true\"") != std::string::npos ||
                           line.find("\"label\": true") != std::string::npos;
    const bool said_yes = log.results[2 * item + 1].logprob > log.results[2 * item].logprob;
    correct += said_yes == label_yes ? 1 : 0;
  }
  EXPECT_DOUBLE_EQ(metric(rs, "boolq", "acc"), correct / 3);
}

// The refusals (missing file, malformed lines, unknown task) are in test_eval_bad_input.cpp.

}  // namespace
}  // namespace optipfair
