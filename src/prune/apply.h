// Applying a width plan: a new Model whose MLP layers keep only the chosen neurons.
//
// The result shares every untouched tensor's memory with the input (it holds the input's storage
// owners), and owns only the sliced gate/up rows and down columns, in their stored type. Block-type
// (Q8_0, Q4_K, ...) gate/up rows are copied block for block; a block-type down_proj cannot be cut
// between the columns of a block, so its kept columns are widened to F32. When the input multiplies
// from panels (model/panels.h), the copied matrices are packed as well: fast products before and
// after the cut then run the same kernels.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "model/model.h"
#include "prune/plan.h"

namespace optipfair {

// kept_per_layer[l]: ascending, distinct neuron indices of layer l (at least one). A list that
// keeps every neuron leaves that layer's tensors shared. Throws Error on a malformed list.
// This is the entry point for any selection rule (fairness pruning builds on it).
Model apply_kept_neurons(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer);

Model apply_width_pruning(const Model& model, const PruningPlan& plan);

// The Python library's zero_neurons_mlp: the neurons not kept stay in place with their gate and up
// rows and their down_proj column set to zero, so shapes (and files) keep their size while the
// neurons contribute nothing. Layers that keep every neuron stay shared; changed matrices are
// copied in their stored type (a zeroed Q8_0 row is a block of zero scale and zero quants).
// Same checks as apply_kept_neurons.
Model zero_pruned_neurons(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer);

// Remove the pruned neurons (a narrower model) or zero them in place (same shapes).
enum class PruneMode : uint8_t { Remove, Zero };
// "remove" or "zero"; throws Error otherwise.
PruneMode prune_mode_from_name(std::string_view name);
const char* prune_mode_name(PruneMode mode);

// Weights the plan takes out of use: per dropped neuron its gate and up rows and its down column.
// Equal to the parameter count's drop for PruneMode::Remove; for Zero, the weights set to zero.
int64_t plan_parameters_removed(const Model& model, const PruningPlan& plan);

// apply_width_pruning or zero_pruned_neurons.
Model apply_pruning_plan(const Model& model, const PruningPlan& plan, PruneMode mode);

}  // namespace optipfair
