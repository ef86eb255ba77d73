// Each task on a random-weight model, checked against lm-eval's definitions written out here: the
// requests it scored are the ones its prompt format gives for the first items of the data file,
// and every metric and stderr follows from those requests' results by the task's formula.
// (The figures themselves on real models are pinned in test_eval_pinned.cpp.)
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "eval/eval_tasks.h"
#include "eval/eval_text.h"
#include "eval/loglikelihood.h"
#include "eval/metrics.h"
#include "eval_test_model.h"
#include "test_support.h"
#include "util/build_paths.h"

namespace optipfair {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::first_jsonl;
using test::plain_mean;
using test::plain_mean_stderr;
using test::space_then;

const MetricValue& metric_of(const TaskResult& r, const std::string& name) {
  for (const auto& m : r.metrics)
    if (m.name == name) return m;
  static const MetricValue none{"(missing)", std::nan(""), std::nan(""), true};
  ADD_FAILURE() << r.task << " has no metric " << name;
  return none;
}

class RandomModelTasks : public ::testing::Test {
 protected:
  struct Run {
    std::vector<TaskResult> results;
    LoglikelihoodLog log;
    const TaskResult& result(const std::string& task) const {
      for (const auto& r : results)
        if (r.task == task) return r;
      throw std::runtime_error("no result for " + task);
    }
  };

  void SetUp() override {
    data = test::shared_path("data");
    OPTIPFAIR_REQUIRE_SHARED(data / "boolq/val.jsonl");
    const fs::path demo = OPTIPFAIR_DEMO_MODEL;
    if (!fs::exists(demo / "tokenizer.json")) GTEST_SKIP() << "demo model missing: " << (demo / "tokenizer.json");
    tok = load_tokenizer(demo);
    model = test::synthetic_model_for_vocab(tok->vocab_size() + 64, 11);
  }

  Run run(const std::string& task, int64_t limit, int64_t num_fewshot = 0, uint64_t seed = 1234,
          const fs::path& data_dir = {}, int64_t max_length = 0) {
    Run r;
    EvalOptions o;
    o.tasks = {task};
    o.limit = limit;
    o.num_fewshot = num_fewshot;
    o.seed = seed;
    o.data_dir = data_dir.empty() ? data : data_dir;
    o.max_length = max_length;
    o.progress = false;
    o.request_log = &r.log;
    r.results = run_eval_tasks(model, *tok, o);
    return r;
  }

  void expect_request(const LoglikelihoodLog& log, size_t k, const std::string& context, const std::string& continuation) {
    ASSERT_LT(k, log.requests.size());
    const auto [ctx, cont] = encode_pair(*tok, context, continuation);
    EXPECT_EQ(log.requests[k].context, ctx) << "request " << k << ": " << context;
    EXPECT_EQ(log.requests[k].continuation, cont) << "request " << k << ": " << continuation;
  }

  test::SingleThread one_thread;
  fs::path data;
  std::unique_ptr<Tokenizer> tok;
  Model model;
};

// wikitext: each article's rolling windows, lm-eval's word and byte perplexities over the
// articles' summed log-likelihoods, bootstrap stderrs with the run's seed and iterations. On a
// small file of three articles in WikiText's raw form, with 8-token windows so that articles span
// several (the shared test file's split is checked in test_eval_text.cpp).
TEST_F(RandomModelTasks, WikitextIsTheRollingLikelihoodOfEachArticle) {
  test::ScratchDir dir;
  fs::create_directories(dir / "wikitext-2-raw");
  const std::string raw =
      " \n = Alpha = \n \n The cat @-@ like animal sat on the mat , and then it left the house . \n \n"
      " = Beta = \n \n The second article 's text has 1 @,@ 000 words in \" quotes \" . \n = = Part = = \n More . \n"
      " = Gamma = \n \n A third , shorter one . \n";
  std::ofstream(dir / "wikitext-2-raw/wiki.test.raw", std::ios::binary) << raw;
  const int64_t window = 8;
  const Run r = run("wikitext", 0, 0, 1234, dir.path(), window);
  const auto pages = wikitext_split_documents(raw);
  ASSERT_EQ(pages.size(), 3u);
  size_t k = 0;
  std::vector<std::pair<double, double>> words, bytes;
  for (const auto& page : pages) {
    const auto windows = rolling_windows(encode_plain(*tok, wikitext_detokenize(page)), prefix_token_id(*tok), window);
    EXPECT_GE(windows.size(), 2u);
    double ll = 0;
    for (const auto& w : windows) {
      ASSERT_LT(k, r.log.requests.size());
      EXPECT_EQ(r.log.requests[k].context, w.context);
      EXPECT_EQ(r.log.requests[k].continuation, w.continuation);
      ll += r.log.results[k++].logprob;
    }
    words.emplace_back(ll, static_cast<double>(count_words_python(page)));
    bytes.emplace_back(ll, static_cast<double>(page.size()));
  }
  EXPECT_EQ(k, r.log.requests.size());
  const TaskResult& t = r.result("wikitext");
  EXPECT_EQ(t.samples, 3);
  EXPECT_EQ(t.available, 3);
  double ll = 0, w = 0, b = 0;
  for (size_t i = 0; i < 3; ++i) {
    ll += words[i].first;
    w += words[i].second;
    b += bytes[i].second;
  }
  EXPECT_DOUBLE_EQ(metric_of(t, "word_perplexity").value, std::exp(-ll / w));
  EXPECT_DOUBLE_EQ(metric_of(t, "byte_perplexity").value, std::exp(-ll / b));
  EXPECT_DOUBLE_EQ(metric_of(t, "bits_per_byte").value, -ll / b / std::log(2.0));
  auto boot = [&](const std::vector<std::pair<double, double>>& xs, bool bits) {
    return bootstrap_stderr(xs.size(), [&](const std::vector<size_t>& idx) {
      double l = 0, n = 0;
      for (size_t i : idx) {
        l += xs[i].first;
        n += xs[i].second;
      }
      return bits ? -l / n / std::log(2.0) : std::exp(-l / n);
    }, 1000, 1234);
  };
  EXPECT_DOUBLE_EQ(metric_of(t, "word_perplexity").stderr_value, boot(words, false));
  EXPECT_DOUBLE_EQ(metric_of(t, "byte_perplexity").stderr_value, boot(bytes, false));
  EXPECT_DOUBLE_EQ(metric_of(t, "bits_per_byte").stderr_value, boot(bytes, true));
}

// lambada_openai: the passage up to its last space, then " " + the last word; acc is "all target
// tokens greedy", perplexity exp(-mean ll) with a bootstrap stderr.
TEST_F(RandomModelTasks, LambadaScoresTheLastWordAfterItsPassage) {
  const size_t n = 6;
  const Run r = run("lambada_openai", static_cast<int64_t>(n));
  const auto docs = first_jsonl(data / "lambada_openai/lambada_test.jsonl", n);
  ASSERT_EQ(r.log.requests.size(), n);
  std::vector<double> lls, greedy;
  for (size_t i = 0; i < n; ++i) {
    const std::string text = docs[i].at("text");
    const size_t sp = text.rfind(' ');
    expect_request(r.log, i, text.substr(0, sp), text.substr(sp));
    lls.push_back(r.log.results[i].logprob);
    greedy.push_back(r.log.results[i].is_greedy ? 1 : 0);
  }
  const TaskResult& t = r.result("lambada_openai");
  EXPECT_EQ(t.samples, 6);
  EXPECT_EQ(t.available, 5153);
  EXPECT_DOUBLE_EQ(metric_of(t, "perplexity").value, std::exp(-plain_mean(lls)));
  EXPECT_DOUBLE_EQ(metric_of(t, "perplexity").stderr_value,
                   bootstrap_stderr(n, [&](const std::vector<size_t>& idx) {
                     double s = 0;
                     for (size_t i : idx) s += lls[i];
                     return std::exp(-s / static_cast<double>(idx.size()));
                   }, 1000, 1234));
  EXPECT_DOUBLE_EQ(metric_of(t, "acc").value, plain_mean(greedy));
  EXPECT_DOUBLE_EQ(metric_of(t, "acc").stderr_value, plain_mean_stderr(greedy));
}

// boolq: "{passage}\nQuestion: {question}?\nAnswer:" then " no" and " yes"; acc against the label.
TEST_F(RandomModelTasks, BoolqAsksNoOrYesAfterThePassage) {
  const size_t n = 5;
  const Run r = run("boolq", static_cast<int64_t>(n));
  const auto docs = first_jsonl(data / "boolq/val.jsonl", n);
  ASSERT_EQ(r.log.requests.size(), 2 * n);
  std::vector<double> acc;
  for (size_t i = 0; i < n; ++i) {
    const std::string prompt =
        docs[i].at("passage").get<std::string>() + "\nQuestion: " + docs[i].at("question").get<std::string>() + "?\nAnswer:";
    expect_request(r.log, 2 * i, prompt, " no");
    expect_request(r.log, 2 * i + 1, prompt, " yes");
    const bool label_yes = docs[i].at("label") == "true" || docs[i].at("label") == true;
    const bool said_yes = r.log.results[2 * i + 1].logprob > r.log.results[2 * i].logprob;
    acc.push_back(said_yes == label_yes ? 1 : 0);
  }
  const TaskResult& t = r.result("boolq");
  EXPECT_EQ(t.samples, 5);
  EXPECT_EQ(t.available, 3270);
  EXPECT_DOUBLE_EQ(metric_of(t, "acc").value, plain_mean(acc));
  EXPECT_DOUBLE_EQ(metric_of(t, "acc").stderr_value, plain_mean_stderr(acc));
}

// arc_challenge: "Question: {stem}\nAnswer:" then " {choice}" for each choice; acc_norm divides by
// the choice's length in characters.
TEST_F(RandomModelTasks, ArcPicksTheLikeliestChoiceRawAndPerCharacter) {
  const size_t n = 25;
  const Run r = run("arc_challenge", static_cast<int64_t>(n));
  const auto docs = first_jsonl(data / "arc/ARC-Challenge-Test.jsonl", n);
  std::vector<double> acc, acc_norm;
  size_t k = 0;
  for (const auto& d : docs) {
    const std::string prompt = "Question: " + d.at("question").at("stem").get<std::string>() + "\nAnswer:";
    size_t gold = 0, best = 0, best_norm = 0;
    double best_ll = -std::numeric_limits<double>::infinity(), best_ll_norm = best_ll;
    const auto& choices = d.at("question").at("choices");
    for (size_t c = 0; c < choices.size(); ++c) {
      const std::string text = choices[c].at("text");
      if (choices[c].at("label") == d.at("answerKey")) gold = c;
      expect_request(r.log, k, prompt, space_then(text));
      const double ll = r.log.results[k++].logprob;
      const double chars = static_cast<double>(text.size());  // ARC's answers are ASCII
      if (ll > best_ll) {  // the first of equal scores wins, as numpy's argmax
        best_ll = ll;
        best = c;
      }
      if (ll / chars > best_ll_norm) {
        best_ll_norm = ll / chars;
        best_norm = c;
      }
    }
    acc.push_back(best == gold ? 1 : 0);
    acc_norm.push_back(best_norm == gold ? 1 : 0);
  }
  EXPECT_EQ(k, r.log.requests.size());
  const TaskResult& t = r.result("arc_challenge");
  EXPECT_EQ(t.samples, 25);
  EXPECT_EQ(t.available, 1172);
  EXPECT_DOUBLE_EQ(metric_of(t, "acc").value, plain_mean(acc));
  EXPECT_DOUBLE_EQ(metric_of(t, "acc").stderr_value, plain_mean_stderr(acc));
  EXPECT_DOUBLE_EQ(metric_of(t, "acc_norm").value, plain_mean(acc_norm));
  EXPECT_DOUBLE_EQ(metric_of(t, "acc_norm").stderr_value, plain_mean_stderr(acc_norm));
}

// Few-shot examples: "Question: {stem}\nAnswer: {gold}" of distinct Dev items, each followed by a
// blank line, in front of the item; drawn from the seed and the item's index, not from --limit.
TEST_F(RandomModelTasks, FewShotExamplesGoInFrontAndDependOnSeedAndItemOnly) {
  std::set<std::string> dev_examples;
  for (const auto& d : first_jsonl(data / "arc/ARC-Easy-Dev.jsonl", 100000)) {
    std::string gold;
    for (const auto& c : d.at("question").at("choices"))
      if (c.at("label") == d.at("answerKey")) gold = c.at("text");
    dev_examples.insert("Question: " + d.at("question").at("stem").get<std::string>() + "\nAnswer: " + gold);
  }
  const auto tests = first_jsonl(data / "arc/ARC-Easy-Test.jsonl", 3);
  auto contexts = [&](const Run& r) {  // each item's context text, from its first request
    std::vector<std::string> out;
    for (size_t k = 0, item = 0; item < static_cast<size_t>(r.results[0].samples); ++item) {
      out.push_back(tok->decode(r.log.requests[k].context));
      k += tests[item].at("question").at("choices").size();
    }
    return out;
  };
  const Run r = run("arc_easy", 3, 2);
  EXPECT_EQ(r.results[0].num_fewshot, 2);
  const std::vector<std::string> ctx = contexts(r);
  ASSERT_EQ(ctx.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const std::string prompt = "Question: " + tests[i].at("question").at("stem").get<std::string>() + "\nAnswer:";
    const size_t a = ctx[i].find("\n\n"), b = ctx[i].find("\n\n", a + 2);
    ASSERT_NE(b, std::string::npos) << ctx[i];
    const std::string shot1 = ctx[i].substr(0, a), shot2 = ctx[i].substr(a + 2, b - a - 2);
    EXPECT_TRUE(dev_examples.count(shot1)) << shot1;
    EXPECT_TRUE(dev_examples.count(shot2)) << shot2;
    EXPECT_NE(shot1, shot2);
    EXPECT_EQ(ctx[i].substr(b + 2), prompt);
  }
  EXPECT_EQ(contexts(run("arc_easy", 1, 2))[0], ctx[0]);  // the same examples whatever --limit is
  EXPECT_NE(contexts(run("arc_easy", 3, 2, 99)), ctx);     // another seed, other examples
}

// crows_pairs_english: both sentences after the prefix token alone; likelihood_diff is the mean
// |ll(more) - ll(less)|, pct_stereotype the share where the more stereotyping one is likelier;
// one sub-task per bias type over its pairs.
TEST_F(RandomModelTasks, CrowsPairsComparesTheTwoSentencesOfEachPair) {
  const size_t n = 12;
  const Run r = run("crows_pairs_english", static_cast<int64_t>(n));
  int64_t bad = 0;
  const auto rows = parse_csv(test::file_text(data / "crows-pairs/crows_pairs_anonymized.csv"), &bad);
  const auto& header = rows[0];
  auto col = [&](const char* name) { return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin()); };
  std::map<std::string, std::vector<size_t>> by_type;
  std::vector<double> diff, stereo;
  for (size_t i = 0; i < n; ++i) {
    const auto& row = rows[i + 1];
    expect_request(r.log, 2 * i, "", row[col("sent_more")]);
    expect_request(r.log, 2 * i + 1, "", row[col("sent_less")]);
    const double more = r.log.results[2 * i].logprob, less = r.log.results[2 * i + 1].logprob;
    diff.push_back(std::abs(more - less));
    stereo.push_back(more > less ? 1 : 0);
    by_type[row[col("bias_type")]].push_back(i);
  }
  ASSERT_EQ(r.log.requests.size(), 2 * n);
  const TaskResult& t = r.result("crows_pairs_english");
  EXPECT_EQ(t.samples, 12);
  EXPECT_EQ(t.available, 1508);
  EXPECT_DOUBLE_EQ(metric_of(t, "likelihood_diff").value, plain_mean(diff));
  EXPECT_DOUBLE_EQ(metric_of(t, "likelihood_diff").stderr_value, plain_mean_stderr(diff));
  EXPECT_DOUBLE_EQ(metric_of(t, "pct_stereotype").value, plain_mean(stereo));
  EXPECT_DOUBLE_EQ(metric_of(t, "pct_stereotype").stderr_value, plain_mean_stderr(stereo));
  ASSERT_EQ(r.results.size(), 1 + by_type.size());
  for (const auto& [type, items] : by_type) {
    std::string name = "crows_pairs_english_" + type;
    std::replace(name.begin(), name.end(), '-', '_');
    const TaskResult& sub = r.result(name);
    EXPECT_EQ(sub.samples, static_cast<int64_t>(items.size())) << name;
    std::vector<double> d;
    for (size_t i : items) d.push_back(diff[i]);
    EXPECT_DOUBLE_EQ(metric_of(sub, "likelihood_diff").value, plain_mean(d)) << name;
  }
}

// bbq on the shared files: every category file present is read, --limit applies per file, and
// the items available are the files' lines (BBQ's scoring is checked on hand-made items in
// test_eval_bias_tasks.cpp).
TEST_F(RandomModelTasks, BbqReadsEveryCategoryFilePresentWithTheLimitPerFile) {
  const Run r = run("bbq", 1);
  std::vector<std::string> present;
  int64_t lines = 0;
  for (const char* cat : {"Age", "Disability_status", "Gender_identity", "Nationality", "Physical_appearance",
                          "Race_ethnicity", "Race_x_gender", "Race_x_SES", "Religion", "SES", "Sexual_orientation"}) {
    const fs::path file = data / "bbq" / (std::string(cat) + ".jsonl");
    if (!fs::exists(file)) continue;
    present.push_back(cat);
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines += line.empty() ? 0 : 1;
  }
  ASSERT_FALSE(present.empty());
  const TaskResult& t = r.result("bbq");
  EXPECT_EQ(t.samples, static_cast<int64_t>(present.size()));
  EXPECT_EQ(t.available, lines);
  EXPECT_EQ(t.skipped, 0);
  ASSERT_EQ(r.log.requests.size(), 12 * present.size());
  for (size_t i = 0; i < present.size(); ++i) {  // each file's first item, in category order
    const json first = first_jsonl(data / "bbq" / (present[i] + ".jsonl"), 1).at(0);
    const std::string prompt =
        first.at("context").get<std::string>() + "\n\nQ: " + first.at("question").get<std::string>() + "\nA:";
    EXPECT_EQ(tok->decode(r.log.requests[12 * i].context), prompt) << present[i];
  }
  // 1 + 4 metrics over all items + 4 per category present, and none for an absent category.
  EXPECT_EQ(t.metrics.size(), 5 + 4 * present.size());
  for (const auto& cat : present) EXPECT_EQ(metric_of(t, "amb_bias_score_" + cat).name, "amb_bias_score_" + cat);
}

}  // namespace
}  // namespace optipfair
