// Width pruning against the numbers the Python optipfair 0.1.3 functions produced on stories260K
// (../shared/reference/optipfair/stories260K*.json).
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/load_model.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/param_count.h"
#include "prune/apply.h"
#include "prune/plan.h"
#include "prune/prune_model.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

using nlohmann::json;

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

struct Reference {
  json main, vectors;
  Model model;
};

// Loaded once: the tests only read it.
const Reference* reference() {
  static Reference* ref = [] {
    const auto dir = test::shared_dir();
    if (!std::filesystem::exists(dir / "reference/optipfair/stories260K.json") ||
        !std::filesystem::exists(dir / "models/stories260K-hf/config.json"))
      return static_cast<Reference*>(nullptr);
    auto* r = new Reference;
    r->main = read_json(dir / "reference/optipfair/stories260K.json");
    r->vectors = read_json(dir / "reference/optipfair/stories260K.vectors.json");
    r->model = load_model((dir / "models/stories260K-hf").string());
    return r;
  }();
  return ref;
}

#define REQUIRE_REFERENCE()                                         \
  const Reference* ref = reference();                               \
  if (!ref) GTEST_SKIP() << "stories260K reference files missing"

const char* const kMethods[] = {"MAW", "VOW", "PON"};

TEST(PruneReference, ImportanceVectorsMatch) {
  REQUIRE_REFERENCE();
  for (const char* name : kMethods) {
    const ImportanceMethod m = importance_method_from_name(name);
    for (size_t l = 0; l < ref->model.layers.size(); ++l) {
      const auto expected = ref->vectors["importance"][name][std::to_string(l)].get<std::vector<double>>();
      const std::vector<float> got = neuron_importance(ref->model.layers[l], m);
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], 2e-6 * std::max(1.0, std::fabs(expected[i])))
            << name << " layer " << l << " neuron " << i;
    }
  }
}

TEST(PruneReference, MawIsBitExact) {
  // MAW is max + |min| of float32 values: no rounding choice, so it must agree to the bit.
  REQUIRE_REFERENCE();
  for (size_t l = 0; l < ref->model.layers.size(); ++l) {
    const auto expected = ref->vectors["importance"]["MAW"][std::to_string(l)].get<std::vector<double>>();
    const std::vector<float> got = neuron_importance(ref->model.layers[l], ImportanceMethod::MAW);
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], static_cast<float>(expected[i]));
  }
}

TEST(PruneReference, KeptIndicesAndSizesMatch) {
  REQUIRE_REFERENCE();
  int compared = 0;
  for (const char* name : kMethods) {
    for (const char* pct_key : {"prune_10pct", "prune_37.5pct"}) {
      const double pct = std::string(pct_key) == "prune_10pct" ? 10.0 : 37.5;
      WidthPruningOptions o;
      o.method = importance_method_from_name(name);
      o.pruning_percentage = pct;
      const PruningPlan plan = plan_width_pruning(ref->model, o);
      for (size_t l = 0; l < plan.layers.size(); ++l) {
        const json& r = ref->main["importance"]["methods"][name][std::to_string(l)][pct_key];
        EXPECT_EQ(plan.layers[l].new_size, r["k_new_intermediate"].get<int64_t>());
        const json& cut = r["cut"];
        // Compare the kept set only where the cut is decided by more than float noise.
        const double gap = cut["gap"].get<double>();
        const double scale = std::fabs(cut["last_kept_score"].get<double>());
        if (cut["tie_at_cut"].get<bool>() || gap <= 1e-5 * scale) continue;
        EXPECT_EQ(plan.layers[l].kept, r["kept_indices_sorted"].get<std::vector<int64_t>>())
            << name << " " << pct_key << " layer " << l;
        ++compared;
      }
    }
  }
  EXPECT_GE(compared, 20);
}

TEST(PruneReference, ExpansionRateConversion) {
  REQUIRE_REFERENCE();
  const json& e = ref->main["expansion_rate_to_percentage"];
  const int64_t I = e["current_intermediate_size"], H = e["current_hidden_size"];
  for (const char* rate : {"140", "200"}) {
    const double p = expansion_rate_to_percentage(I, H, std::stod(rate));
    EXPECT_DOUBLE_EQ(p, e["rates"][rate]["pruning_percentage"].get<double>());
    EXPECT_EQ(neurons_to_keep(I, p), e["rates"][rate]["resulting_k"].get<int64_t>());
  }
}

TEST(PruneReference, PruneModelRunsMatch) {
  REQUIRE_REFERENCE();
  const json& runs = ref->main["prune_model_mlp_glu"]["runs"];
  ASSERT_EQ(runs.size(), 8u);
  for (const json& run : runs) {
    const std::string call = run["call"];
    SCOPED_TRACE(call);
    PruneOptions o;
    o.show_progress = false;
    for (const char* m : kMethods)
      if (call.find(std::string("'") + m + "'") != std::string::npos) o.width.method = importance_method_from_name(m);
    if (call.find("expansion_rate=140") != std::string::npos) o.width.expansion_rate = 140;
    else if (call.find("expansion_rate=200") != std::string::npos) o.width.expansion_rate = 200;
    else if (call.find("pruning_percentage=37.5") != std::string::npos) o.width.pruning_percentage = 37.5;
    else o.width.pruning_percentage = 10;
    const PruneResult r = prune_model(ref->model, o);
    EXPECT_EQ(r.stats.intermediate_sizes, run["per_layer_out_features"].get<std::vector<int64_t>>());
    EXPECT_EQ(r.stats.original_parameters, run["param_count_before"].get<int64_t>());
    EXPECT_EQ(r.stats.pruned_parameters, run["param_count_after"].get<int64_t>());
    if (run.contains("pruning_percentage")) {
      EXPECT_DOUBLE_EQ(r.plan.layers[0].pruning_percentage, run["pruning_percentage"].get<double>());
    }
    if (run.contains("kept_indices_sorted_per_layer")) {
      for (size_t l = 0; l < r.plan.layers.size(); ++l)
        EXPECT_EQ(r.plan.layers[l].kept, run["kept_indices_sorted_per_layer"][std::to_string(l)].get<std::vector<int64_t>>());
    }

    // The pruned model runs at once and gives the Python model's final logits.
    const auto ids = ref->main["prompts"][run["final_logits_after_prompt"].get<std::string>()].get<std::vector<int32_t>>();
    const std::vector<float> logits = forward_tokens(r.model, ids);
    const int64_t V = r.model.config.vocab_size;
    const float* last = logits.data() + (static_cast<int64_t>(ids.size()) - 1) * V;
    const json& fl = run["final_logits_after"];
    const auto first8 = fl["first8"].get<std::vector<double>>();
    for (size_t i = 0; i < first8.size(); ++i) EXPECT_NEAR(last[i], first8[i], 1e-4);
    double sum = 0;
    int64_t argmax = 0;
    for (int64_t i = 0; i < V; ++i) {
      sum += last[i];
      if (last[i] > last[argmax]) argmax = i;
    }
    EXPECT_NEAR(sum, fl["sum_f64"].get<double>(), 1e-2);
    EXPECT_EQ(argmax, fl["argmax"].get<int64_t>());
    const auto top5 = fl["top5_ids"].get<std::vector<int64_t>>();
    const auto top5v = fl["top5_vals"].get<std::vector<double>>();
    for (size_t i = 0; i < top5.size(); ++i) EXPECT_NEAR(last[top5[i]], top5v[i], 1e-4);
  }
}

TEST(PruneReference, PythonStatsKeysAndValues) {
  REQUIRE_REFERENCE();
  const json& expected = ref->main["prune_model_mlp_glu"]["optipfair.prune_model(MAW, 10%, return_stats=True) stats"];
  PruneOptions o;
  o.show_progress = false;
  o.width.pruning_percentage = 10;
  const json got = prune_model(ref->model, o).stats.to_json();
  for (const char* key : {"original_parameters", "pruned_parameters", "reduction"})
    EXPECT_EQ(got[key].get<int64_t>(), expected[key].get<int64_t>()) << key;
  EXPECT_DOUBLE_EQ(got["percentage_reduction"].get<double>(), expected["percentage_reduction"].get<double>());
  EXPECT_DOUBLE_EQ(got["expansion_rate"].get<double>(), expected["expansion_rate"].get<double>());
}

TEST(PruneReference, BothPercentageAndRateRefusedLikePython) {
  // Python: "pruning_percentage and expansion_rate are mutually exclusive. Provide only one."
  REQUIRE_REFERENCE();
  WidthPruningOptions o;
  o.pruning_percentage = 10;
  o.expansion_rate = 140;
  try {
    plan_width_pruning(ref->model, o);
    FAIL() << "accepted both a percentage and a rate";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mutually exclusive"), std::string::npos);
  }
}

}  // namespace
}  // namespace optipfair
