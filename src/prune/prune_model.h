// optipfair::prune_model: the Python library's prune_model (width or depth), with its statistics.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "prune/depth.h"
#include "prune/plan.h"

namespace optipfair {

enum class PruningType { MlpGlu, Depth };
// "MLP_GLU" or "DEPTH" (case-insensitive); throws Error otherwise.
PruningType pruning_type_from_name(const std::string& name);
const char* pruning_type_name(PruningType type);  // "MLP_GLU" or "DEPTH", the Python library's names

struct PruneOptions {
  PruningType type = PruningType::MlpGlu;
  WidthPruningOptions width;
  DepthPruningOptions depth;
  // Calibration text as token sequences (see calibration.h). For MLP_GLU it switches to the
  // calibration-driven score; for DEPTH it computes layer importance (reported, and used by the
  // "importance" selection method).
  std::vector<std::vector<int32_t>> calibration;
  bool show_progress = true;
};

struct PruningStats {
  // The Python library's keys.
  int64_t original_parameters = 0;
  int64_t pruned_parameters = 0;
  int64_t reduction = 0;
  double percentage_reduction = 0;
  double expansion_rate = 0;                      // layer 0's new width / hidden size * 100
  // Beside them.
  PruningType pruning_type = PruningType::MlpGlu;
  std::string method;                             // MAW/VOW/PON/L2 (+ "+calibration"), or the layer selection
  std::vector<int64_t> original_intermediate_sizes;
  std::vector<int64_t> intermediate_sizes;
  std::vector<double> expansion_rates;            // per remaining layer
  std::vector<double> layer_pruning_percentages;  // per original layer (0 where untouched)
  int64_t original_layer_count = 0;
  int64_t final_layer_count = 0;
  std::vector<int> removed_layers;
  std::vector<double> layer_importance;           // when calibration text was given
  std::vector<std::pair<std::string, double>> timings;  // stage -> seconds, in order

  nlohmann::json to_json() const;
};

struct PruneResult {
  Model model;
  PruningPlan plan;      // width pruning: what each layer kept
  PruningStats stats;
};

// Scores, plans and applies; the input model is not modified and keeps owning its memory (the
// result shares the untouched tensors). Throws Error for a plan that cannot be made.
PruneResult prune_model(const Model& model, const PruneOptions& options);

}  // namespace optipfair
