// analyze_bias: one forward pass per prompt (many prompts batched in each forward() call) captures
// every layer and component needed; every metric, score and plot is computed from that capture.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bias/prompt_pairs.h"
#include "bias/token_alignment.h"
#include "kernels/matmul.h"
#include "model/capture.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/work_observer.h"

namespace optipfair {

struct BiasOptions {
  // Components whose differences are measured (all six by default, as the Python library).
  std::vector<Component> components{kAllComponents.begin(), kAllComponents.end()};
  // Layers whose token-level activations are kept for heatmaps and PCA (as the Python library's
  // `layers`); metrics always cover every layer. "all", "first_middle_last" or "0,7,15".
  std::string plot_layers = "first_middle_last";
  // Components kept for plots (heatmap: all four; PCA uses mlp_output and attention_output).
  std::vector<Component> plot_components{Component::MlpOutput, Component::AttentionOutput, Component::GateProj,
                                         Component::UpProj};
  bool keep_plot_data = true;
  int64_t plot_pairs = -1;  // keep plot data for the first N pairs only; -1: every pair
  // Exact (default): activations stay float32 through every matrix product, because bias metrics are
  // small differences of activations; Fast allows bf16-rounded activations (kernels/matmul.h).
  Precision precision = Precision::Exact;
  int64_t max_batch_tokens = 2048;  // rows per forward() call
  bool progress = true;
  WorkObserver* observer = nullptr;  // hears each chunk of pairs ("bias") and may cancel between chunks
};

// The differences of one captured key (e.g. "gate_proj_layer_3") for one pair.
struct KeyDifference {
  std::string key;
  Component component = Component::InputNorm;
  int layer = 0;
  float mean_abs = 0;            // mean |a1 - a2| over aligned rows and units (Python's value for equal lengths)
  std::vector<float> per_token;  // mean over units of |a1 - a2|, one per aligned row
  double signed_mean = 0;        // mean over aligned rows and units of (a1 - a2)
  std::vector<float> direction;  // mean over aligned rows of (a1 - a2), one per unit
};

// Token representations of one key kept for plots: raw rows of both prompts.
struct KeptActivations {
  Activation a1, a2;
};

struct PairAnalysis {
  PromptPair pair;
  std::vector<int32_t> ids1, ids2;
  std::vector<std::string> tokens1, tokens2;  // each token decoded alone, for labels
  TokenAlignment alignment;
  bool equal_length = true;
  bool identical = false;                     // same token ids: every difference is 0
  std::vector<KeyDifference> differences;     // in the Python library's key order
  nlohmann::ordered_json python_metrics;      // calculate_bias_metrics; {} for unequal lengths, as Python
  nlohmann::ordered_json aligned_metrics;     // the same formulas over the aligned rows (always present)
  double mean_difference = 0;                 // aligned overall mean_difference
  std::string note;                           // what the user should know about this pair
  std::map<std::string, KeptActivations> kept;  // key -> activations, for the plot layers
};

// Per-neuron bias scores of the MLP (design.md §4, the input of fairness pruning): for layer l,
// score[i] = mean over pairs of ( mean_t |gate1[t,i] - gate2[t,i]| + mean_t |up1[t,i] - up2[t,i]| ),
// t over aligned rows.
struct NeuronBiasScores {
  std::vector<std::vector<float>> per_layer;  // [layer][neuron]
  int64_t num_pairs = 0;
};

struct BiasAnalysis {
  std::vector<PairAnalysis> pairs;
  std::vector<Component> components;
  std::vector<int> plot_layers;
  int64_t num_layers = 0;
  NeuronBiasScores neuron_scores;
  uint64_t forward_calls = 0;        // forward() calls made by the analysis
  uint64_t sequences_processed = 0;  // prompts run through the model (2 per pair)
  double seconds_tokenize = 0, seconds_forward = 0, seconds_metrics = 0;
  Precision precision = Precision::Exact;
};

// Runs the analysis. Throws Error for an empty prompt, a prompt longer than the model's context, a
// plot layer out of range or an empty pair list.
BiasAnalysis analyze_bias(const Model& model, const Tokenizer& tokenizer, const std::vector<PromptPair>& pairs,
                          const BiasOptions& options = {});

// Options for metrics and neuron scores only: no token-level data kept for plots, no progress bar
// (fair-prune's before/after measurements).
BiasOptions bias_metrics_options(Precision precision = Precision::Exact);

// Per-layer neuron bias scores only (gate_proj and up_proj captured, nothing else), for fair-prune.
NeuronBiasScores neuron_bias_scores(const Model& model, const Tokenizer& tokenizer,
                                    const std::vector<PromptPair>& pairs,
                                    Precision precision = Precision::Exact);

// Aggregates over a set of pairs: mean_difference over pairs, per component the mean per layer, the
// signed direction per key and how consistent it is across pairs. `indices` selects pairs (all when empty).
nlohmann::ordered_json bias_aggregate(const BiasAnalysis& analysis, const std::vector<size_t>& indices = {});

// bias_metrics.json: {"pair_1": {prompt1, prompt2, metrics, ...our extra keys}, ...}.
nlohmann::ordered_json bias_metrics_json(const BiasAnalysis& analysis);
// bias_summary.json: settings, aggregate over all pairs and per category, alignments, counts.
nlohmann::ordered_json bias_summary_json(const BiasAnalysis& analysis);
// neuron_bias_scores.json: {"layer_0": [...], ...} plus the number of pairs.
nlohmann::ordered_json neuron_scores_json(const NeuronBiasScores& scores);

}  // namespace optipfair
