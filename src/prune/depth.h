// Depth pruning: removing whole decoder layers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/model.h"

namespace optipfair {

struct DepthPruningOptions {
  // Exactly one of these three (optipfair's rule).
  std::optional<int64_t> num_layers_to_remove;
  std::vector<int> layer_indices;                 // the layers to remove ("custom")
  std::optional<double> depth_pruning_percentage; // removes int(n * p / 100) layers, p in (0, 100)
  // "last", "first", "custom" (implied by layer_indices) or "importance": the layers with the
  // lowest layer_importance() score, which needs `layer_scores`.
  std::string layer_selection_method = "last";
  std::vector<double> layer_scores;               // one per layer, for "importance"
};

// The ascending layer indices to remove. Throws Error with the reason for a plan optipfair
// refuses (none or several of the three counts, removing no layer or every layer, an index out of
// range or listed twice, an unknown method).
std::vector<int> select_layers_to_remove(int64_t num_layers, const DepthPruningOptions& options);

// A new Model without the listed layers; every remaining tensor is shared with `model`.
Model remove_layers(const Model& model, const std::vector<int>& layers_to_remove);

}  // namespace optipfair
