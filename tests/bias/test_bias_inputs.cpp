// Bad input gives one clear Error, never a crash; an identical pair says plainly that it is 0.
#include <gtest/gtest.h>

#include "bias/bias_analysis.h"
#include "bias/python_metrics.h"
#include "test_support.h"
#include "io/load_model.h"
#include "util/error.h"

namespace optipfair {
namespace {

struct Tiny {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Tiny& tiny() {
  static Tiny t = [] {
    Tiny x;
    const auto dir = test::shared_path("models/stories260K-hf");
    x.model = load_model(dir.string());
    x.tokenizer = load_tokenizer(dir);
    return x;
  }();
  return t;
}

#define REQUIRE_MODEL() OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"))

std::string error_of(const std::vector<PromptPair>& pairs, const BiasOptions& o = {}) {
  try {
    BiasOptions q = o;
    q.progress = false;
    analyze_bias(tiny().model, *tiny().tokenizer, pairs, q);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(BiasInputs, EmptyPromptIsRejected) {
  REQUIRE_MODEL();
  EXPECT_NE(error_of({{"She is a nurse.", "", ""}}).find("prompt 2 of pair 1 is empty"), std::string::npos);
  EXPECT_NE(error_of({{"  ", "He is a nurse.", ""}}).find("is empty"), std::string::npos);
  EXPECT_NE(error_of({}).find("no prompt pairs"), std::string::npos);
}

TEST(BiasInputs, PromptLongerThanTheContextIsRejected) {
  REQUIRE_MODEL();
  std::string long_text;
  for (int i = 0; i < 700; ++i) long_text += "the cat ";
  const std::string e = error_of({{"She is a nurse.", long_text, ""}});
  EXPECT_NE(e.find("more than the model's context of 512"), std::string::npos) << e;
}

TEST(BiasInputs, LayerOutOfRangeIsRejected) {
  REQUIRE_MODEL();
  BiasOptions o;
  o.plot_layers = "0,7";
  const std::string e = error_of({{"She is a nurse.", "He is a nurse.", ""}}, o);
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
}

TEST(BiasInputs, UnknownComponentIsRejected) {
  EXPECT_THROW(component_from_name("mlp_outptu"), Error);
  try {
    component_from_name("attn");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown component 'attn'"), std::string::npos);
  }
}

TEST(BiasInputs, IdenticalPairGivesZeroAndSaysSo) {
  REQUIRE_MODEL();
  BiasOptions o;
  o.progress = false;
  const BiasAnalysis a = analyze_bias(tiny().model, *tiny().tokenizer, {{"She is a nurse.", "She is a nurse.", ""}}, o);
  const PairAnalysis& p = a.pairs[0];
  EXPECT_TRUE(p.identical);
  EXPECT_EQ(p.mean_difference, 0.0);
  EXPECT_NE(p.note.find("every activation difference is exactly 0"), std::string::npos);
  for (const KeyDifference& d : p.differences) EXPECT_EQ(d.mean_abs, 0.0f);
  const auto j = bias_metrics_json(a);
  EXPECT_EQ(j["pair_1"]["identical"], true);
  // Python divides by the first layer's 0: float("inf"), written as "Infinity".
  EXPECT_EQ(j["pair_1"]["metrics"]["component_metrics"]["gate_proj"]["progression_metrics"]["first_to_last_ratio"], "Infinity");
}

TEST(BiasInputs, ComponentSubsetKeepsPythonKeyOrderAndScores) {
  REQUIRE_MODEL();
  BiasOptions o;
  o.progress = false;
  o.components = {Component::AttentionOutput, Component::MlpOutput};
  const BiasAnalysis a = analyze_bias(tiny().model, *tiny().tokenizer, {{"She is a nurse.", "He is a nurse.", ""}}, o);
  ASSERT_EQ(a.pairs[0].differences.size(), 10u);
  EXPECT_EQ(a.pairs[0].differences[0].key, "attention_output_layer_0");
  EXPECT_EQ(a.pairs[0].differences[1].key, "mlp_output_layer_0");
  EXPECT_EQ(a.neuron_scores.per_layer.size(), 5u);  // gate/up captured anyway
  EXPECT_EQ(a.neuron_scores.per_layer[0].size(), 172u);
}

}  // namespace
}  // namespace optipfair
