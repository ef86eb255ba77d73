// Bias metrics against the Python optipfair library's own outputs on the real stories260K model
// (../shared/reference/optipfair/stories260K.json): calculate_bias_metrics value for value, NaN
// where Python has NaN, and the FairnessPruner's per-neuron bias scores.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bias/bias_analysis.h"
#include "bias/python_metrics.h"
#include "io/load_model.h"
#include "model/forward.h"
#include "test_support.h"

namespace optipfair {
namespace {

using nlohmann::json;

struct Stories {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
  json ref;
};

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

bool have_shared() {
  return std::filesystem::exists(test::shared_path("reference/optipfair/stories260K.json")) &&
         std::filesystem::exists(test::shared_path("models/stories260K-hf/model.safetensors"));
}

// Every number in `ref` equals `got` to 1e-5 relative; "NaN" / "Infinity" strings where the
// reference has them; booleans and strings equal; the same keys in the same order.
void expect_same(const json& got, const json& ref, const std::string& path, int& checked) {
  if (ref.is_object()) {
    ASSERT_TRUE(got.is_object()) << path;
    ASSERT_EQ(got.size(), ref.size()) << path;
    auto g = got.begin();
    for (auto r = ref.begin(); r != ref.end(); ++r, ++g) {
      ASSERT_EQ(g.key(), r.key()) << path << ": keys in a different order";
      expect_same(g.value(), r.value(), path + "." + r.key(), checked);
    }
  } else if (ref.is_number()) {
    ASSERT_TRUE(got.is_number()) << path << " got " << got.dump();
    const double r = ref.get<double>(), x = got.get<double>();
    EXPECT_LE(std::fabs(x - r), 1e-5 * std::max(std::fabs(r), 1e-6)) << path << ": got " << x << ", Python " << r;
    ++checked;
  } else {
    EXPECT_EQ(got, ref) << path;  // "NaN"/"Infinity" strings, booleans, key names
    ++checked;
  }
}

TEST(BiasReference, EqualLengthPairsMatchPythonCalculateBiasMetricsExactly) {
  if (!have_shared()) GTEST_SKIP() << "shared stories260K reference missing";
  Stories& s = stories();
  for (int index : {1, 2}) {
    const json& pair = s.ref["pairs"][static_cast<size_t>(index)];
    PromptPair p{pair["prompt1"].get<std::string>(), pair["prompt2"].get<std::string>(), "gender"};
    BiasOptions o;
    o.progress = false;
    BiasAnalysis a = analyze_bias(s.model, *s.tokenizer, {p}, o);
    ASSERT_EQ(a.pairs[0].ids1, pair["ids1"].get<std::vector<int32_t>>());
    ASSERT_EQ(a.pairs[0].ids2, pair["ids2"].get<std::vector<int32_t>>());
    const json file = json::parse(bias_metrics_json(a).dump());
    int checked = 0;
    expect_same(file["pair_1"]["metrics"], pair["calculate_bias_metrics"], "pair" + std::to_string(index), checked);
    EXPECT_GT(checked, 30 * 6 + 6 * 12 + 7);
    // The per-key raw values too.
    for (const KeyDifference& d : a.pairs[0].differences) {
      const double r = pair["calculate_activation_differences"][d.key][0].get<double>();
      EXPECT_NEAR(d.mean_abs, r, 1e-5 * r) << d.key;
    }
    EXPECT_EQ(file["pair_1"]["metrics"]["layer_metrics"]["input_norm_layer_0"]["std_difference"], "NaN");
  }
}

TEST(BiasReference, UnequalLengthPairHasNoPythonMetricsButAlignedOnes) {
  if (!have_shared()) GTEST_SKIP() << "shared stories260K reference missing";
  Stories& s = stories();
  const json& pair = s.ref["pairs"][0];
  ASSERT_TRUE(pair["calculate_bias_metrics"].empty());
  PromptPair p{pair["prompt1"].get<std::string>(), pair["prompt2"].get<std::string>(), "gender"};
  BiasOptions o;
  o.progress = false;
  BiasAnalysis a = analyze_bias(s.model, *s.tokenizer, {p}, o);
  const PairAnalysis& pa = a.pairs[0];
  EXPECT_EQ(pa.ids1.size(), 11u);
  EXPECT_EQ(pa.ids2.size(), 12u);
  EXPECT_FALSE(pa.equal_length);
  const json file = json::parse(bias_metrics_json(a).dump());
  EXPECT_TRUE(file["pair_1"]["metrics"].empty());  // as Python: {}
  const json& al = file["pair_1"]["alignment"];
  EXPECT_EQ(al["method"], "lcs_pooled");
  EXPECT_EQ(al["tokens1"], 11);
  EXPECT_EQ(al["tokens2"], 12);
  // "Lily" (1 token) vs "Tom" (2 tokens) pooled, "She" vs "He" pooled, the rest one to one.
  EXPECT_EQ(al["aligned_rows"], 11);
  EXPECT_EQ(al["pooled_groups"].size(), 1u);
  EXPECT_NE(file["pair_1"]["note"].get<std::string>().find("different lengths"), std::string::npos);
  const json& m = file["pair_1"]["aligned_metrics"];
  ASSERT_TRUE(m.contains("overall_metrics"));
  EXPECT_EQ(m["overall_metrics"]["total_layers"], 30);
  EXPECT_GT(m["overall_metrics"]["mean_difference"].get<double>(), 0.0);
  EXPECT_EQ(file["pair_1"]["token_differences"]["gate_proj_layer_0"].size(), 11u);
}

TEST(BiasReference, NeuronBiasScoresMatchTheNotebooksFairnessPruner) {
  if (!have_shared()) GTEST_SKIP() << "shared stories260K reference missing";
  Stories& s = stories();
  const json& fp = s.ref["fairness_pruner_multi_pair"];
  std::vector<PromptPair> pairs;
  for (const json& p : fp["prompt_pairs"]) pairs.push_back({p[0].get<std::string>(), p[1].get<std::string>(), ""});
  const NeuronBiasScores scores = neuron_bias_scores(s.model, *s.tokenizer, pairs);
  ASSERT_EQ(scores.per_layer.size(), 5u);
  for (auto& [layer, summary] : fp["bias_scores"].items()) {
    const std::vector<float>& v = scores.per_layer[static_cast<size_t>(std::stoi(layer))];
    ASSERT_EQ(static_cast<int64_t>(v.size()), summary["n"].get<int64_t>());
    const auto first8 = summary["first8"].get<std::vector<double>>();
    for (size_t i = 0; i < first8.size(); ++i) EXPECT_NEAR(v[i], first8[i], 1e-5 * first8[i]) << "layer " << layer;
    double sum = 0;
    for (float f : v) sum += f;
    EXPECT_NEAR(sum, summary["sum_f64"].get<double>(), 1e-5 * summary["sum_f64"].get<double>());
    EXPECT_EQ(std::max_element(v.begin(), v.end()) - v.begin(), summary["argmax"].get<int64_t>());
    EXPECT_NEAR(*std::min_element(v.begin(), v.end()), summary["min"].get<double>(), 1e-5);
  }
}

TEST(BiasReference, OneForwardPassPerPromptManyPairsBatched) {
  if (!have_shared()) GTEST_SKIP() << "shared stories260K reference missing";
  Stories& s = stories();
  std::vector<PromptPair> pairs;
  for (const json& p : s.ref["pairs"]) pairs.push_back({p["prompt1"].get<std::string>(), p["prompt2"].get<std::string>(), ""});
  const uint64_t seq0 = forward_sequence_count(), calls0 = forward_call_count();
  BiasOptions o;
  o.progress = false;
  o.plot_layers = "all";
  BiasAnalysis a = analyze_bias(s.model, *s.tokenizer, pairs, o);
  EXPECT_EQ(forward_sequence_count() - seq0, 2 * pairs.size());
  EXPECT_EQ(a.sequences_processed, 2 * pairs.size());
  EXPECT_EQ(forward_call_count() - calls0, 1u);  // all six prompts in one batched call
  // A batch of one pair at a time gives the same numbers as the batched run.
  o.max_batch_tokens = 1;
  BiasAnalysis b = analyze_bias(s.model, *s.tokenizer, pairs, o);
  EXPECT_EQ(b.forward_calls, pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i)
    for (size_t k = 0; k < a.pairs[i].differences.size(); ++k)
      EXPECT_NEAR(a.pairs[i].differences[k].mean_abs, b.pairs[i].differences[k].mean_abs,
                  1e-5 * a.pairs[i].differences[k].mean_abs);
}

}  // namespace
}  // namespace optipfair
