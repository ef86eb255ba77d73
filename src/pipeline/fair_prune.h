// The fairness-pruning pipeline as one library call: score the MLP neurons on prompt pairs,
// remove (or zero) the most biased and least important, and measure what changed — bias on the
// pairs used and on held-out pairs, perplexity, evaluation tasks, continuations. Nothing is
// printed or written: `optipfair fair-prune`, the benchmark, the sweep and the server format the
// plain result themselves (fair_prune_report.h writes the JSON and the HTML report).
//
// The work splits in two so that a sweep pays for the original model once:
//   fair_prune_measure_original  — every "before" figure and the neuron scores, one pass per prompt;
//   fair_prune_measure_plan      — cut one plan (from fairness scores, importance or at random) and
//                                  measure the cut model against those figures.
// run_fair_prune does both for the plan in the options.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bias/bias_analysis.h"
#include "bias/bias_summary.h"
#include "bias/fairness_pruner.h"
#include "bias/prompt_pairs.h"
#include "eval/eval_report.h"
#include "eval/eval_tasks.h"
#include "eval/text_perplexity.h"
#include "kernels/matmul.h"
#include "model/model.h"
#include "prune/apply.h"
#include "prune/plan.h"
#include "tokenizer/tokenizer.h"
#include "util/work_observer.h"

namespace optipfair {

struct FairPruneOptions {
  FairnessPlan plan;                          // method, bias weight, how many neurons per layer
  PruneMode mode = PruneMode::Remove;         // remove the neurons, or zero them in place
  std::vector<PromptPair> pairs;              // choose the neurons; bias measured before and after
  std::vector<PromptPair> held_out_pairs;     // optional: measured before and after, never used to choose
  Precision precision = Precision::Exact;     // of every bias measurement
  std::filesystem::path perplexity_text;      // optional: a text file measured before and after
  EvalOptions eval;                           // eval.tasks empty: no evaluation tasks
  bool generate = true;                       // continuations of every prompt, before and after
  // Keep the token-level activations of the first pair at every layer (the report's heatmap and
  // PCA of the layer that changed most); costs memory only.
  bool keep_plot_data = false;
  bool progress = false;                      // progress bars on stderr
  WorkObserver* observer = nullptr;           // hears every stage and may cancel between steps
  std::string model_name;                     // how outputs name the original (default: its source path)
};

// One prompt's continuation by the original model and by the pruned one.
struct Continuation {
  std::string prompt;
  std::string before;
  std::string after;
};

struct PerplexityChange {
  std::filesystem::path file;
  TextPerplexity before, after;
};

struct EvalChange {
  EvalOptions options;  // as run (limit, few-shot, data folder), for the results' "config"
  EvalRun before, after;
};

// Stage -> seconds, in the order they ran.
using StageTimes = std::vector<std::pair<std::string, double>>;

// Everything measured on the original model.
struct FairPruneOriginal {
  BiasAnalysis bias;                          // on the pairs used (its neuron_scores choose the neurons)
  std::optional<BiasAnalysis> held_out;       // on the held-out pairs, when given
  std::optional<TextPerplexity> perplexity;
  std::optional<EvalRun> eval;
  std::vector<std::string> continuations;     // one per prompt, prompt 1 and 2 of each pair in turn
  int64_t parameters = 0;
  StageTimes seconds;
};

struct FairPruneResult {
  Model model;                                // the pruned model (shares untouched weights with the input)
  FairnessPlan plan;                          // what was asked (method, weight, counts)
  PruneMode mode = PruneMode::Remove;
  PruningPlan kept;                           // what each layer kept
  // The original model's figures (bias.neuron_scores chose the neurons), shared rather than copied:
  // a sweep measures many plans against one original.
  std::shared_ptr<const FairPruneOriginal> original;
  int64_t parameters_before = 0;
  int64_t parameters_after = 0;               // in use: for PruneMode::Zero the zeroed weights are not counted

  BiasAnalysis bias_after;                    // the pairs used, on the pruned model
  BiasSummary used_before, used_after;
  std::optional<BiasSummary> held_out_before, held_out_after;
  std::optional<PerplexityChange> perplexity;
  std::optional<EvalChange> eval;
  std::vector<Continuation> continuations;
  StageTimes seconds;                         // the pruned model's stages (the original's are in original->seconds)
};

// Throws Error, before anything is measured, for what would fail later: no pairs or a pair of two
// identical prompts, a plan the model cannot take, a perplexity text that cannot be read.
void fair_prune_validate(const Model& model, const FairPruneOptions& options);

// The "before" figures and the neuron scores (one forward pass per prompt serves both).
FairPruneOriginal fair_prune_measure_original(const Model& model, const Tokenizer& tokenizer,
                                              const FairPruneOptions& options);

// Cuts `kept` from `model` (options.mode) and measures the result as `original` was measured.
// `plan` records what was asked for and is copied into the result.
FairPruneResult fair_prune_measure_plan(const Model& model, const Tokenizer& tokenizer, const FairPruneOptions& options,
                                        std::shared_ptr<const FairPruneOriginal> original, PruningPlan kept);

// Validate, measure the original, plan options.plan on its scores, cut and measure.
FairPruneResult run_fair_prune(const Model& model, const Tokenizer& tokenizer, const FairPruneOptions& options);

// The layer whose mean difference changed most (largest |after - before|), for the report's
// token-level figures.
int fair_prune_most_changed_layer(const FairPruneResult& result);

}  // namespace optipfair
