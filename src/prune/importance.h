// How much each MLP neuron of a GLU layer matters, the scores width pruning ranks neurons by.
//
// Neuron i of a layer is row i of gate_proj and up_proj ([I x H]) and column i of down_proj
// ([H x I]). Every score is computed in float32 from the stored type, as the Python library does
// after `.float()`.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace optipfair {

enum class ImportanceMethod {
  MAW,  // (also "PPM") max(row) + |min(row)| of gate plus the same of up
  VOW,  // unbiased variance of the gate row plus that of the up row
  PON,  // L1 norm of the gate row times that of the up row (optipfair 0.1.3; later versions add them)
  L2,   // L2 norm of the gate row plus that of the up row
};

// "MAW", "PPM", "VOW", "PON", "L2" (case-insensitive); throws Error listing them otherwise.
ImportanceMethod importance_method_from_name(std::string_view name);
const char* importance_method_name(ImportanceMethod method);

// Throws Error unless the layer's MLP has gate, up and down projections (what width pruning cuts).
void require_glu(const LayerWeights& layer);

// One score per neuron of the layer (I_l values).
std::vector<float> neuron_importance(const LayerWeights& layer, ImportanceMethod method);

// The calibration-driven score (CFSP-style, optipfair's "hybrid" MAW):
//   (maw(gate_i)/(max+1e-8) + maw(up_i)/(max+1e-8) + maw(down[:, i])/(max+1e-8)) * act_norm[i]
// where act_norm[i] is the accumulated L2 norm of down_proj's input for neuron i.
std::vector<float> neuron_importance_calibrated(const LayerWeights& layer, std::span<const float> act_norm);

}  // namespace optipfair
