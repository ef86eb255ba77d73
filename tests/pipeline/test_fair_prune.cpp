// run_fair_prune, the library call behind `optipfair fair-prune`, the sweep and the server:
// against the seed notebook's FairnessPruner run verbatim on stories260K (every per-pair run in
// ../shared/reference/optipfair/stories260K.json), against the figures docs/results.md reports, and
// its refusals (before any forward pass).
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/load_model.h"
#include "model/forward.h"
#include "pipeline/fair_prune.h"
#include "pipeline/fair_prune_report.h"
#include "test_support.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace optipfair {
namespace {

using nlohmann::json;

struct Loaded {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
};

const Loaded& stories() {
  static const Loaded s = [] {
    const auto dir = test::shared_path("models/stories260K-hf");
    return Loaded{load_model(dir.string()), load_tokenizer(dir)};
  }();
  return s;
}

const Loaded& demo() {
  static const Loaded s = [] { return Loaded{load_model(OPTIPFAIR_DEMO_MODEL), load_tokenizer(OPTIPFAIR_DEMO_MODEL)}; }();
  return s;
}

std::filesystem::path repo_file(const std::string& relative) {
  return std::filesystem::path(OPTIPFAIR_DATA_DIR).parent_path() / relative;
}

#define REQUIRE_STORIES() OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"))

// "pruner.prune(0.1, method='hybrid', bias_weight=0.7)" or a per-layer map, as the reference records it.
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

TEST(FairPrune, MatchesTheNotebookOnEveryReferenceRun) {
  REQUIRE_STORIES();
  const auto ref_path = test::shared_path("reference/optipfair/stories260K.json");
  OPTIPFAIR_REQUIRE_SHARED(ref_path);
  std::ifstream in(ref_path);
  const json ref = json::parse(in);
  int runs = 0;
  for (const json& pair_ref : ref["pairs"]) {
    const json& fp = pair_ref["fairness_pruner"];
    if (fp.contains("init_error")) continue;  // unequal lengths: the notebook refuses, nothing to compare
    for (const json& run : fp["runs"]) {
      SCOPED_TRACE(run["call"].get<std::string>());
      FairPruneOptions o;
      o.pairs = {{fp["prompt_pairs"][0][0].get<std::string>(), fp["prompt_pairs"][0][1].get<std::string>(), ""}};
      o.plan = plan_of(run);
      o.generate = false;
      const FairPruneResult r = run_fair_prune(stories().model, *stories().tokenizer, o);
      for (size_t l = 0; l < r.kept.layers.size(); ++l) {
        const json& lr = run["layers"][std::to_string(l)];
        EXPECT_EQ(r.kept.layers[l].new_size, lr["intermediate_size"].get<int64_t>()) << "layer " << l;
        if (lr.contains("kept_indices_sorted")) {
          EXPECT_EQ(r.kept.layers[l].kept, lr["kept_indices_sorted"].get<std::vector<int64_t>>()) << "layer " << l;
        }
      }
      EXPECT_EQ(r.parameters_after, run["param_count_after"].get<int64_t>());
      // With a per-layer map the notebook writes the first pruned layer's width into the config
      // although the layers then differ (its saved model cannot be reloaded); ours keeps the widest.
      if (!run["prune_config"].is_object()) {
        EXPECT_EQ(r.model.config.intermediate_size, run["config_intermediate_size_after"].get<int64_t>());
      }
      const double before = run["overall_mean_difference_before"].get<double>();
      const double after = run["overall_mean_difference_after"].get<double>();
      EXPECT_NEAR(r.used_before.mean_difference, before, 1e-5 * before);
      EXPECT_NEAR(r.used_after.mean_difference, after, 1e-5 * after);
      ++runs;
    }
  }
  EXPECT_EQ(runs, 14);
}

// docs/results.md's stories260K table, row "hybrid 0.5, 10 %": used pairs, held-out pairs and
// perplexity in one call.
TEST(FairPrune, HeldOutPairsAndPerplexityAsDocumented) {
  REQUIRE_STORIES();
  const auto text = test::shared_path("data/tinystories-sample/tinystories_sample.txt");
  OPTIPFAIR_REQUIRE_SHARED(text);
  FairPruneOptions o;
  o.pairs = load_prompt_pairs(repo_file("docs/fair_prune_pairs/gender_train.jsonl"));
  o.held_out_pairs = load_prompt_pairs(repo_file("docs/fair_prune_pairs/gender_heldout.jsonl"));
  o.perplexity_text = text;
  o.plan.pruning_percentage = 10;
  o.generate = false;
  const FairPruneResult r = run_fair_prune(stories().model, *stories().tokenizer, o);
  EXPECT_EQ(r.parameters_before - r.parameters_after, 16320);
  EXPECT_NEAR(r.used_before.mean_difference, 0.108776, 5e-7);
  EXPECT_NEAR(r.used_after.mean_difference, 0.106186, 5e-7);
  ASSERT_TRUE(r.held_out_before && r.held_out_after);
  EXPECT_EQ(r.held_out_before->pairs, 4);
  EXPECT_NEAR(percent_change(r.held_out_before->mean_difference, r.held_out_after->mean_difference), 0.78, 0.005);
  ASSERT_TRUE(r.perplexity);
  EXPECT_NEAR(r.perplexity->before.token_perplexity, 3.5482, 5e-5);
  EXPECT_NEAR(r.perplexity->after.token_perplexity, 5.3075, 5e-5);
  // The original's figures are shared, not recomputed: its analysis is the one that chose the neurons.
  EXPECT_EQ(r.original->bias.neuron_scores.per_layer.size(), 5u);
  EXPECT_EQ(r.original->bias.pairs.size(), o.pairs.size());
}

// docs/results.md's demo-model paragraph: the default pairs, hybrid 0.5, 0.2 %.
TEST(FairPrune, DemoModelDefaultRunAsDocumented) {
  FairPruneOptions o;
  o.pairs = default_prompt_pairs();
  o.plan.pruning_percentage = 0.2;
  o.generate = false;
  o.keep_plot_data = true;
  const FairPruneResult r = run_fair_prune(demo().model, *demo().tokenizer, o);
  EXPECT_EQ(r.used_before.pairs, 32);
  EXPECT_EQ(r.parameters_before - r.parameters_after, 4608);
  EXPECT_NEAR(r.used_before.mean_difference, 0.0913164, 5e-8);
  EXPECT_NEAR(r.used_after.mean_difference, 0.0912748, 5e-8);
  EXPECT_EQ(r.used_before.per_category.size(), 8u);
  EXPECT_EQ(fair_prune_most_changed_layer(r), 4);
  // Plot data only for the first pair, at every layer (the report's token-level figures).
  EXPECT_EQ(r.original->bias.pairs[0].kept.count("mlp_output_layer_4"), 1u);
  EXPECT_TRUE(r.original->bias.pairs[1].kept.empty());

  test::ScratchDir dir;
  FairPruneReportInfo info;
  info.model_name = "demo";
  write_fair_prune_report(r, dir.path(), info);
  std::ifstream in(dir / "fair_prune.json");
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(in);
  EXPECT_EQ(j["parameters_removed"], 4608);
  EXPECT_EQ(j["per_pair"].size(), 32u);
  EXPECT_EQ(j["per_pair"][0].begin().key(), "category");  // reading order, not alphabetical
  EXPECT_TRUE(std::filesystem::exists(dir / "heatmap_mlp_output_layer_4_pair0_pruned.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "pca_mlp_output_layer_4_pair0_original.png"));
}

// Zeroing the neurons in place must give the same model outputs as removing them. Bias figures
// agree on every hidden-size component; gate_proj and up_proj are averaged over their width, which
// still counts the zeroed neurons (each contributing a difference of 0), as the Python library does
// on a zeroed model.
TEST(FairPrune, ZeroModeEqualsRemoveModeInOutputs) {
  REQUIRE_STORIES();
  FairPruneOptions o;
  o.pairs = load_prompt_pairs(repo_file("docs/fair_prune_pairs/gender_train.jsonl"));
  o.plan.pruning_percentage = 10;
  o.generate = false;
  const FairPruneResult removed = run_fair_prune(stories().model, *stories().tokenizer, o);
  o.mode = PruneMode::Zero;
  const FairPruneResult zeroed = run_fair_prune(stories().model, *stories().tokenizer, o);
  EXPECT_EQ(zeroed.model.layers[0].intermediate_size(), 172);
  EXPECT_EQ(removed.model.layers[0].intermediate_size(), 155);
  EXPECT_EQ(zeroed.parameters_after, removed.parameters_after);
  for (size_t p = 0; p < o.pairs.size(); ++p) {
    const auto& dz = zeroed.bias_after.pairs[p].differences;
    const auto& dr = removed.bias_after.pairs[p].differences;
    ASSERT_EQ(dz.size(), dr.size());
    for (size_t k = 0; k < dz.size(); ++k) {
      const bool mlp_width = dz[k].component == Component::GateProj || dz[k].component == Component::UpProj;
      const double z = mlp_width ? dz[k].mean_abs * 172.0 / 155.0 : dz[k].mean_abs;
      EXPECT_NEAR(z, dr[k].mean_abs, 1e-5 * dr[k].mean_abs + 1e-7) << dz[k].key;
    }
  }
  const std::vector<int32_t> ids = stories().tokenizer->encode("Once upon a time, a little girl");
  const std::vector<float> a = forward_tokens(removed.model, ids), b = forward_tokens(zeroed.model, ids);
  ASSERT_EQ(a.size(), b.size());
  // The same sums over other column counts land in other SIMD lanes: float32 rounding only, within
  // 1e-6 of the largest logit of the position.
  const size_t V = static_cast<size_t>(stories().model.config.vocab_size);
  for (size_t row = 0; row < a.size() / V; ++row) {
    float scale = 0;
    for (size_t v = 0; v < V; ++v) scale = std::max(scale, std::fabs(a[row * V + v]));
    for (size_t v = 0; v < V; ++v) ASSERT_NEAR(a[row * V + v], b[row * V + v], 1e-6 * scale) << row << " " << v;
  }
}

// A plan from outside the fairness scores (importance-only pruning of the same size, as a sweep's
// baseline) is measured against the same original without measuring it again.
TEST(FairPrune, OutsidePlanMeasuredAgainstTheSameOriginal) {
  REQUIRE_STORIES();
  FairPruneOptions o;
  o.pairs = load_prompt_pairs(repo_file("docs/fair_prune_pairs/gender_train.jsonl"));
  o.plan.pruning_percentage = 10;
  o.generate = false;
  fair_prune_validate(stories().model, o);
  auto original = std::make_shared<FairPruneOriginal>(fair_prune_measure_original(stories().model, *stories().tokenizer, o));
  WidthPruningOptions width;
  width.pruning_percentage = 10;
  const uint64_t sequences = forward_sequence_count();
  const FairPruneResult r =
      fair_prune_measure_plan(stories().model, *stories().tokenizer, o, original, plan_width_pruning(stories().model, width));
  // One pass per prompt, on the pruned model only.
  EXPECT_EQ(forward_sequence_count() - sequences, 2 * o.pairs.size());
  EXPECT_EQ(r.original.get(), original.get());
  EXPECT_EQ(r.parameters_before - r.parameters_after, 16320);
  EXPECT_NE(r.used_after.mean_difference, r.used_before.mean_difference);
}

TEST(FairPrune, RefusesBadInputBeforeMeasuring) {
  REQUIRE_STORIES();
  const Model& m = stories().model;
  const Tokenizer& t = *stories().tokenizer;
  auto refusal = [&](const FairPruneOptions& o) {
    const uint64_t calls = forward_call_count();
    try {
      run_fair_prune(m, t, o);
    } catch (const Error& e) {
      EXPECT_EQ(forward_call_count(), calls) << "measured before refusing: " << e.what();
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted";
    return std::string();
  };
  FairPruneOptions o;
  o.generate = false;
  EXPECT_NE(refusal(o).find("at least one prompt pair"), std::string::npos);
  o.pairs = {{"She is a nurse.", "She is a nurse.", ""}};
  EXPECT_NE(refusal(o).find("identical"), std::string::npos);
  o.pairs = {{"She is a nurse.", "He is a nurse.", ""}};
  o.plan.pruning_percentage = 100;
  EXPECT_NE(refusal(o).find("every neuron"), std::string::npos);
  o.plan.pruning_percentage = 10;
  o.plan.layer_indices = {9};
  EXPECT_NE(refusal(o).find("layer 9 does not exist"), std::string::npos);
  o.plan.layer_indices = {};
  o.plan.bias_weight = -0.5;
  EXPECT_NE(refusal(o).find("bias weight"), std::string::npos);
  o.plan.bias_weight = 0.5;
  o.perplexity_text = "/nonexistent/text.txt";
  EXPECT_NE(refusal(o).find("/nonexistent/text.txt"), std::string::npos);
  o.perplexity_text.clear();
  o.eval.tasks = {"boolq", "nosuchtask"};
  EXPECT_NE(refusal(o).find("nosuchtask"), std::string::npos);
}

}  // namespace
}  // namespace optipfair
