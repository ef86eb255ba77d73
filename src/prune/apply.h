// Applying a width plan: a new Model whose MLP layers keep only the chosen neurons.
//
// The result shares every untouched tensor's memory with the input (it holds the input's storage
// owners), and owns only the sliced gate/up rows and down columns, in their stored type. Q8_0
// gate/up rows are copied block for block; a Q8_0 down_proj cannot be cut between blocks, so its
// kept columns are widened to F32.
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "prune/plan.h"

namespace optipfair {

// kept_per_layer[l]: ascending, distinct neuron indices of layer l (at least one). A list that
// keeps every neuron leaves that layer's tensors shared. Throws Error on a malformed list.
// This is the entry point for any selection rule (fairness pruning builds on it).
Model apply_kept_neurons(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer);

Model apply_width_pruning(const Model& model, const PruningPlan& plan);

}  // namespace optipfair
