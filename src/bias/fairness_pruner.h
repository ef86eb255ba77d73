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
#include "prune/apply.h"
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

// Which neurons go: ranked by prunability (method, bias weight), counted exactly as width pruning
// counts them (the WidthTarget base: a percentage, an expansion rate, layer indices or a per-layer
// map, a divisor), and checked by the same code.
struct FairnessPlan : WidthTarget {
  FairnessMethod method = FairnessMethod::Hybrid;
  double bias_weight = 0.5;  // hybrid only, in [0, 1]
};

struct FairnessPruneResult {
  Model model;
  PruningPlan plan;  // LayerPlan::scores holds the negated prunability (higher keeps)
  int64_t parameters_before = 0;
  int64_t parameters_after = 0;
};

// Throws Error for an empty pair list or a pair whose two prompts are the same text (it carries no
// signal).
void check_fairness_pairs(const std::vector<PromptPair>& pairs);

// Throws Error with the reason for a plan that cannot be made on this model (needs no scores, so
// a command can refuse a bad plan before measuring anything): width_options_validate's checks and
// the bias weight.
void validate_fairness_plan(const Model& model, const FairnessPlan& plan);

class FairnessPruner {
 public:
  // Measures the bias scores on `pairs` (checked with check_fairness_pairs) and the MAW importance
  // of every layer.
  FairnessPruner(const Model& model, const Tokenizer& tokenizer, const std::vector<PromptPair>& pairs,
                 Precision precision = Precision::Exact);
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
  // A new model; the pruner's model is not modified. With PruneMode::Zero the neurons stay in
  // place, zeroed, and parameters_after counts the weights still in use.
  FairnessPruneResult prune(const FairnessPlan& plan, PruneMode mode = PruneMode::Remove) const;

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
