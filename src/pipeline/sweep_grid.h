// The grid of a sweep: which cuts are tried (method, bias weight, percentage, layer set, mode, random
// seed), how the prompt pairs are split into folds, and the key that names a configuration in
// sweep.jsonl so that a re-run can skip what is done.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bias/prompt_pairs.h"
#include "prune/apply.h"

namespace optipfair {

enum class SweepMethod : uint8_t {
  Hybrid,      // fairness pruning, prunability = w * bias + (1 - w) * (1 - importance)
  Bias,        // fairness pruning on the bias score alone
  Importance,  // ordinary MAW width pruning of the same size (no bias information)
  Random,      // the same count per layer, neurons drawn at random (one configuration per seed)
};
// "hybrid", "bias", "importance" or "random" (case-insensitive); throws Error otherwise.
SweepMethod sweep_method_from_name(std::string_view name);
const char* sweep_method_name(SweepMethod method);

// A named set of layers: "all", "first-half", "last-half", "last-quarter", or explicit indices
// ("12,13,14,15" or "12-15"). Empty `layers` means every layer.
struct LayerSet {
  std::string name;
  std::vector<int> layers;
};
// Throws Error for an unknown name, an index outside [0, num_layers) or an empty set.
LayerSet layer_set_from_spec(const std::string& spec, int num_layers);

struct SweepGrid {
  std::vector<SweepMethod> methods{SweepMethod::Hybrid, SweepMethod::Importance, SweepMethod::Random};
  std::vector<double> bias_weights{0.5};          // hybrid only
  std::vector<double> percentages{1, 2, 5, 10};   // of each selected layer's MLP neurons
  std::vector<std::string> layer_sets{"all"};
  std::vector<PruneMode> modes{PruneMode::Remove};
  int random_seeds = 5;                           // random: seeds 1..N
};

// "1,2,5" or a range "start:stop:step" (stop included when the steps reach it). Throws Error for
// anything else, a step that is not positive, or a percentage outside [0, 100).
std::vector<double> parse_percentages(const std::string& spec);

struct SweepConfig {
  SweepMethod method = SweepMethod::Hybrid;
  double bias_weight = 0;   // hybrid only (0 otherwise)
  double percentage = 0;
  LayerSet layers;
  PruneMode mode = PruneMode::Remove;
  int seed = 0;             // random only (0 otherwise)

  // "hybrid w=0.5 p=5 layers=all mode=remove" (+ " seed=3" for random): names the configuration in
  // sweep.jsonl and in the report.
  std::string key() const;
  // The key without the seed: random configurations of one size share it (their band).
  std::string group() const;
};

// Every configuration of the grid, in a fixed order. Throws Error for an empty grid (no method, no
// percentage, a random method with no seeds...) or a bias weight outside [0, 1].
std::vector<SweepConfig> sweep_grid_expand(const SweepGrid& grid, int num_layers);

// One fold: which pairs choose the neurons and which measure the cut (indices into the pair list).
struct Fold {
  std::vector<size_t> train;
  std::vector<size_t> held_out;
};

// Stratified k-fold: each category's pairs are shuffled (seeded) and dealt round-robin over the
// folds, so every fold holds a share of every category and the folds are disjoint and cover all
// pairs. Throws Error when k < 2, or when a category has fewer pairs than k (some fold would hold
// none of it), naming the category.
std::vector<Fold> stratified_folds(const std::vector<PromptPair>& pairs, int k, uint64_t seed);

// The smallest number of pairs of any category (pairs without a category count as one category ""),
// for choosing a default fold count.
int64_t smallest_category_size(const std::vector<PromptPair>& pairs);

}  // namespace optipfair
