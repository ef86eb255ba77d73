// FairnessPruner against the seed notebook's own FairnessPruner run verbatim on stories260K
// (../shared/reference/optipfair/stories260K.json: pairs[*].fairness_pruner and
// fairness_pruner_multi_pair): bias scores, kept neurons, parameter counts, mean difference after.
#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bias/fairness_pruner.h"
#include "io/load_model.h"
#include "model/param_count.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

using nlohmann::json;

struct Stories {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
  json ref;
};

bool have_shared() {
  return std::filesystem::exists(test::shared_path("reference/optipfair/stories260K.json")) &&
         std::filesystem::exists(test::shared_path("models/stories260K-hf/model.safetensors"));
}

Stories& stories() {
  static Stories s = [] {
    Stories x;
    const auto dir = test::shared_path("models/stories260K-hf");
    x.model = load_model(dir.string());
    x.tokenizer = load_tokenizer(dir);
    std::ifstream in(test::shared_path("reference/optipfair/stories260K.json"));
    x.ref = json::parse(in);
    return x;
  }();
  return s;
}

#define REQUIRE_STORIES() \
  if (!have_shared()) GTEST_SKIP() << "stories260K model or reference missing"

std::vector<PromptPair> pairs_of(const json& list) {
  std::vector<PromptPair> out;
  for (const auto& p : list) out.push_back({p[0].get<std::string>(), p[1].get<std::string>(), ""});
  return out;
}

void expect_scores(const FairnessPruner& pruner, const json& ref) {
  const auto& per_layer = pruner.bias_scores().per_layer;
  ASSERT_EQ(per_layer.size(), ref.size());
  for (size_t l = 0; l < per_layer.size(); ++l) {
    const json& r = ref[std::to_string(l)];
    const auto& s = per_layer[l];
    ASSERT_EQ(static_cast<int64_t>(s.size()), r["n"].get<int64_t>());
    double sum = 0;
    for (float v : s) sum += v;
    EXPECT_NEAR(sum, r["sum_f64"].get<double>(), 1e-5 * std::fabs(r["sum_f64"].get<double>())) << "layer " << l;
    // float32 activations through five layers, summed in another order than torch's: a few ulps.
    auto tol = [](double ref_value) { return 1e-6 + 2e-6 * std::fabs(ref_value); };
    for (size_t i = 0; i < 8; ++i)
      EXPECT_NEAR(s[i], r["first8"][i].get<double>(), tol(r["first8"][i].get<double>())) << "layer " << l;
    EXPECT_EQ(static_cast<int64_t>(std::max_element(s.begin(), s.end()) - s.begin()), r["argmax"].get<int64_t>());
    EXPECT_NEAR(*std::max_element(s.begin(), s.end()), r["max"].get<double>(), tol(r["max"].get<double>()));
    EXPECT_NEAR(*std::min_element(s.begin(), s.end()), r["min"].get<double>(), tol(r["min"].get<double>()));
  }
}

// "pruner.prune(0.1, method='hybrid', bias_weight=0.7)" or "pruner.prune({1: 0.1, 4: 0.25}, ...)".
FairnessPlan plan_of(const json& run) {
  FairnessPlan p;
  p.method = fairness_method_from_name(run["method"].get<std::string>());
  if (run.contains("bias_weight")) p.bias_weight = run["bias_weight"].get<double>();
  const json& cfg = run["prune_config"];
  if (cfg.is_object()) {
    for (auto it = cfg.begin(); it != cfg.end(); ++it) p.layer_percentages[std::stoi(it.key())] = it.value().get<double>() * 100;
  } else {
    p.pruning_percentage = cfg.get<double>() * 100;
  }
  return p;
}

double mean_difference_of(const Model& model, const Tokenizer& tok, const PromptPair& pair) {
  BiasOptions o;
  o.keep_plot_data = false;
  o.progress = false;
  const BiasAnalysis a = analyze_bias(model, tok, {pair}, o);
  return a.pairs[0].python_metrics["overall_metrics"]["mean_difference"].get<double>();
}

TEST(FairnessPruner, MatchesNotebookPerPair) {
  REQUIRE_STORIES();
  Stories& s = stories();
  int runs_checked = 0;
  for (const json& pair_ref : s.ref["pairs"]) {
    const json& fp = pair_ref["fairness_pruner"];
    if (fp.contains("init_error")) continue;  // unequal lengths: covered below
    const std::vector<PromptPair> pairs = pairs_of(fp["prompt_pairs"]);
    const FairnessPruner pruner(s.model, *s.tokenizer, pairs);
    expect_scores(pruner, fp["bias_scores"]);
    for (const json& run : fp["runs"]) {
      SCOPED_TRACE(run["call"].get<std::string>() + " on '" + pairs[0].prompt1 + "'");
      const FairnessPruneResult r = pruner.prune(plan_of(run));
      const json& layers = run["layers"];
      for (size_t l = 0; l < r.plan.layers.size(); ++l) {
        const json& lr = layers[std::to_string(l)];
        EXPECT_EQ(r.plan.layers[l].new_size, lr["intermediate_size"].get<int64_t>()) << "layer " << l;
        if (lr.contains("kept_indices_sorted"))
          EXPECT_EQ(r.plan.layers[l].kept, lr["kept_indices_sorted"].get<std::vector<int64_t>>()) << "layer " << l;
        else
          EXPECT_FALSE(r.plan.layers[l].pruned);
      }
      EXPECT_EQ(r.parameters_after, run["param_count_after"].get<int64_t>());
      const double after = mean_difference_of(r.model, *s.tokenizer, pairs[0]);
      const double ref_after = run["overall_mean_difference_after"].get<double>();
      EXPECT_NEAR(after, ref_after, 1e-5 * ref_after);
      ++runs_checked;
    }
  }
  EXPECT_EQ(runs_checked, 14);
}

TEST(FairnessPruner, MatchesNotebookMultiPair) {
  REQUIRE_STORIES();
  Stories& s = stories();
  const json& ref = s.ref["fairness_pruner_multi_pair"];
  const std::vector<PromptPair> pairs = pairs_of(ref["prompt_pairs"]);
  const FairnessPruner pruner(s.model, *s.tokenizer, pairs);
  expect_scores(pruner, ref["bias_scores"]);
  FairnessPlan p;
  p.pruning_percentage = 10;
  const FairnessPruneResult r = pruner.prune(p);
  for (size_t l = 0; l < r.plan.layers.size(); ++l)
    EXPECT_EQ(r.plan.layers[l].kept, ref["layers"][std::to_string(l)]["kept_indices_sorted"].get<std::vector<int64_t>>());
  for (size_t i = 0; i < pairs.size(); ++i) {
    const json& ba = ref["overall_mean_difference_before_after"][i];
    EXPECT_NEAR(mean_difference_of(s.model, *s.tokenizer, pairs[i]), ba["before"].get<double>(), 1e-6);
    EXPECT_NEAR(mean_difference_of(r.model, *s.tokenizer, pairs[i]), ba["after"].get<double>(), 1e-5);
  }
}

// The notebook raises "size of tensor a (11) must match ... (12)" on this pair; we align the rows.
TEST(FairnessPruner, UnequalLengthPairWorks) {
  REQUIRE_STORIES();
  Stories& s = stories();
  const json& pair_ref = s.ref["pairs"][0];
  ASSERT_TRUE(pair_ref["fairness_pruner"].contains("init_error"));
  ASSERT_NE(pair_ref["len1"], pair_ref["len2"]);
  const FairnessPruner pruner(s.model, *s.tokenizer, pairs_of(pair_ref["fairness_pruner"]["prompt_pairs"]));
  for (const auto& layer : pruner.bias_scores().per_layer) {
    ASSERT_EQ(layer.size(), 172u);
    EXPECT_GT(*std::max_element(layer.begin(), layer.end()), 0.0f);
    for (float v : layer) EXPECT_TRUE(std::isfinite(v));
  }
  FairnessPlan p;
  p.pruning_percentage = 10;
  EXPECT_EQ(pruner.prune(p).plan.layers[0].new_size, 155);
}

TEST(FairnessPruner, PlansAreIndependentOfEachOther) {
  REQUIRE_STORIES();
  Stories& s = stories();
  const FairnessPruner pruner(s.model, *s.tokenizer, {{"She is a nurse.", "He is a nurse.", ""}});
  FairnessPlan a;
  a.pruning_percentage = 10;
  FairnessPlan b;
  b.pruning_percentage = 40;
  b.expansion_divisor = 32;
  const auto first = pruner.plan(a);
  const auto rb = pruner.prune(b);
  EXPECT_EQ(rb.plan.layers[0].new_size, 96);  // 172 - 68 = 104, rounded to a multiple of 32
  EXPECT_EQ(pruner.plan(a).layers[0].kept, first.layers[0].kept);
  EXPECT_EQ(count_parameters(s.model).total(), 260032);
  EXPECT_LT(rb.parameters_after, rb.parameters_before);
}

TEST(FairnessPruner, BadInput) {
  REQUIRE_STORIES();
  Stories& s = stories();
  EXPECT_THROW(FairnessPruner(s.model, *s.tokenizer, {}), Error);
  EXPECT_THROW(FairnessPruner(s.model, *s.tokenizer, {{"He is a nurse.", "He is a nurse.", ""}}), Error);
  const FairnessPruner pruner(s.model, *s.tokenizer, {{"She is a nurse.", "He is a nurse.", ""}});
  FairnessPlan all;
  all.pruning_percentage = 100;
  try {
    pruner.plan(all);
    FAIL() << "100 % accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("every neuron"), std::string::npos) << e.what();
  }
  FairnessPlan missing;
  missing.layer_percentages = {{1, 10}, {7, 10}};
  try {
    pruner.plan(missing);
    FAIL() << "layer 7 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 7 does not exist"), std::string::npos) << e.what();
  }
  // Counted as width pruning counts: with no percentage, the Python default of 10 % (17 of 172).
  const PruningPlan by_default = pruner.plan(FairnessPlan{});
  for (const LayerPlan& lp : by_default.layers) EXPECT_EQ(lp.new_size, 155);
  FairnessPlan both;
  both.pruning_percentage = 10;
  both.expansion_rate = 200;
  EXPECT_THROW(pruner.plan(both), Error);
  FairnessPlan weight;
  weight.pruning_percentage = 10;
  weight.bias_weight = 1.5;
  EXPECT_THROW(pruner.plan(weight), Error);
  EXPECT_THROW(fairness_method_from_name("random"), Error);
  NeuronBiasScores wrong;
  wrong.per_layer.resize(2);
  EXPECT_THROW(FairnessPruner(s.model, wrong), Error);
}

}  // namespace
}  // namespace optipfair
