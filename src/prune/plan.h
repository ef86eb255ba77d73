// Width-pruning plans: how many neurons each MLP layer keeps, and which.
//
// Counting follows the Python library exactly: a layer of I neurons pruned by p percent keeps
//   k = I - min(int(p / 100 * I), I - 1)
// (truncation: 37.5 % of 172 prunes 64, 0.2 % of 172 prunes nothing). A target expansion rate r
// (percent of the hidden size H) becomes p = (1 - (r / 100 * H) / I) * 100 first.
//
// Which neurons: the k highest scores, kept in their original order. Equal scores are broken by
// index: the lower index ranks higher (a stable sort on descending score), so the result never
// depends on thread count or on the sort's implementation. NaN scores rank below every number.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "model/model.h"
#include "prune/importance.h"

namespace optipfair {

// How many neurons each layer loses: shared by width pruning and fairness pruning, so both take the
// same settings and are checked by the same code. A layer cut by 0 % is left as it is.
struct WidthTarget {
  // Mutually exclusive; with neither, 10 % (the Python default).
  std::optional<double> pruning_percentage;  // in [0, 100)
  std::optional<double> expansion_rate;      // target width as a percent of the hidden size
  std::optional<int64_t> expansion_divisor;  // 32, 64, 128 or 256: round each new width to a multiple
  std::vector<int> layer_indices;            // prune only these layers (empty: all)
  std::map<int, double> layer_percentages;   // per-layer percentages; exclusive with all of the above
};

struct WidthPruningOptions : WidthTarget {
  ImportanceMethod method = ImportanceMethod::MAW;
  // Calibration-driven scores: per layer, the accumulated L2 norm of down_proj's input per neuron
  // (see calibration.h). Empty: weight-only scores. Only with MAW, as in the Python library.
  std::vector<std::vector<float>> activation_norms;
  // Scores chosen outside (fairness pruning, a random baseline): one vector per layer, as wide as
  // the layer, higher keeps. Replace `method` and calibration when given.
  std::vector<std::vector<float>> scores;
};

struct LayerPlan {
  int layer = 0;
  bool pruned = false;               // false: the layer is left as it is
  int64_t original_size = 0;
  int64_t new_size = 0;
  double pruning_percentage = 0;     // the percentage this layer was cut by (after rate conversion)
  std::vector<int64_t> kept;         // ascending original indices, new_size of them
  std::vector<float> scores;         // the scores ranked (empty when not pruned)
};

struct PruningPlan {
  std::vector<LayerPlan> layers;     // one per decoder layer, in order
  std::vector<std::vector<int64_t>> kept_per_layer() const;
};

// Neurons kept out of I when pruning `percentage` percent (Python's truncation, never 0).
int64_t neurons_to_keep(int64_t intermediate_size, double percentage);
// optipfair's calculate_pruning_percentage_from_expansion_rate; throws Error when the target is
// not below the current width.
double expansion_rate_to_percentage(int64_t intermediate_size, int64_t hidden_size, double expansion_rate);
// k rounded to the nearest multiple of `divisor` (halves to even, as Python's round), never above
// the largest multiple that fits in I and never 0. A layer narrower than `divisor` keeps k as is.
int64_t round_to_divisor(int64_t k, int64_t intermediate_size, int64_t divisor);
// The k best-scoring indices in ascending order, ties to the lower index.
std::vector<int64_t> select_top_neurons(std::span<const float> scores, int64_t k);

// Throws Error with the reason for a plan that cannot be made (a model whose MLP is not gated, both
// a percentage and a rate, a percentage outside [0, 100), a rate not below a layer's current width,
// a layer that does not exist or is listed twice, an unknown divisor, calibration data with a
// method other than MAW, outside scores that do not match the layers).
void width_options_validate(const Model& model, const WidthPruningOptions& options);

// Scores every selected layer and chooses what it keeps.
PruningPlan plan_width_pruning(const Model& model, const WidthPruningOptions& options);

}  // namespace optipfair
