// Parameter accounting of a model, as `optipfair analyze` reports it.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace optipfair {

struct LayerParamCount {
  int64_t attention = 0;          // q, k, v, o (+ biases, + q/k norms)
  int64_t mlp = 0;                // gate, up, down
  int64_t norms = 0;              // input and post-attention RMSNorm
  int64_t intermediate_size = 0;
  int64_t total() const { return attention + mlp + norms; }
};

struct ParamCount {
  int64_t embeddings = 0;         // token embedding table
  int64_t lm_head = 0;            // 0 when tied to the embeddings
  int64_t attention = 0;
  int64_t mlp = 0;
  int64_t norms = 0;              // every RMSNorm, the final one included
  std::vector<LayerParamCount> layers;
  int64_t total() const { return embeddings + lm_head + attention + mlp + norms; }
};

ParamCount count_parameters(const Model& model);

// What pruning a percentage of every layer's MLP neurons would remove: each neuron is one row of
// gate and up and one column of down, 3 x hidden parameters. The count per layer is truncated as
// the Python library does (floor(p/100 * I), never all of them).
struct PruningSaving {
  double percentage = 0;
  int64_t neurons_removed = 0;
  int64_t parameters_removed = 0;
  int64_t bytes_saved = 0;        // at the model's storage type
  double parameter_reduction_percent = 0;
};
std::vector<PruningSaving> pruning_savings(const Model& model, const std::vector<double>& percentages);

// Everything `optipfair analyze --json` prints.
nlohmann::json model_summary_json(const Model& model);

}  // namespace optipfair
