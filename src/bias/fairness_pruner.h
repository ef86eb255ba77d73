// Fairness pruning (design.md §4, the seed notebook's FairnessPruner): remove the MLP neurons whose
// activations differ most between the prompts of demographic pairs and that matter little otherwise.
//
// The scores (per-neuron bias from the pairs, MAW importance) are computed once when the pruner is
// made; plan()/prune() only rank and slice, so many plans can be explored on the same scores.
// Unlike the notebook, pairs of unequal token length work: their rows are aligned as in
// analyze_bias (token_alignment.h) instead of raising a shape error.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "bias/bias_analysis.h"
#include "bias/prompt_pairs.h"
#include "model/model.h"
#include "prune/plan.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

enum class FairnessMethod {
  Hybrid,  // w * minmax(bias) + (1 - w) * (1 - minmax(MAW))
  Bias,    // the raw bias score
};

// "hybrid" or "bias" (case-insensitive); throws Error otherwise.
FairnessMethod fairness_method_from_name(std::string_view name);
const char* fairness_method_name(FairnessMethod method);

struct FairnessPlan {
  FairnessMethod method = FairnessMethod::Hybrid;
  double bias_weight = 0.5;                  // hybrid only, in [0, 1]
  std::optional<double> pruning_percentage;  // every layer, in [0, 100)
  std::map<int, double> layer_percentages;   // or only these layers; exclusive with the above
  std::optional<int64_t> expansion_divisor;  // 32, 64, 128 or 256, as `prune`
};

struct FairnessPruneResult {
  Model model;
  PruningPlan plan;  // LayerPlan::scores holds the prunability ranked (lowest kept)
  int64_t parameters_before = 0;
  int64_t parameters_after = 0;
};

// Throws Error for an empty pair list or a pair whose two prompts are the same text (it carries no
// signal).
void check_fairness_pairs(const std::vector<PromptPair>& pairs);

// Throws Error with the reason for a plan that cannot be made on this model (needs no scores, so
// a command can refuse a bad plan before measuring anything).
void validate_fairness_plan(const Model& model, const FairnessPlan& plan);

class FairnessPruner {
 public:
  // Measures the bias scores on `pairs` (checked with check_fairness_pairs) and the MAW importance
  // of every layer.
  FairnessPruner(const Model& model, const Tokenizer& tokenizer, const std::vector<PromptPair>& pairs,
                 bool fast = false);
  // From scores measured elsewhere (one vector per layer, as wide as the layer), e.g. the
  // neuron_scores of an analyze_bias run, so one pass over the pairs serves both.
  FairnessPruner(const Model& model, NeuronBiasScores scores);

  const NeuronBiasScores& bias_scores() const { return bias_; }
  const std::vector<std::vector<float>>& importance_scores() const { return importance_; }

  // Per-neuron prunability of one layer (float32 arithmetic, as the notebook's torch code).
  std::vector<float> prunability(int layer, FairnessMethod method, double bias_weight) const;

  // Throws Error with the reason for a plan that cannot be made.
  void validate(const FairnessPlan& plan) const;
  PruningPlan plan(const FairnessPlan& plan) const;
  // A new model; the pruner's model is not modified.
  FairnessPruneResult prune(const FairnessPlan& plan) const;

 private:
  void compute_importance();
  const Model* model_;
  NeuronBiasScores bias_;
  std::vector<std::vector<float>> importance_;
};

// {"method", "bias_weight", "layers": [{layer, original_size, new_size, kept, pruned}], ...} for the
// JSON saved beside a pruned model.
nlohmann::ordered_json fairness_plan_json(const FairnessPlan& plan, const PruningPlan& result);

}  // namespace optipfair
