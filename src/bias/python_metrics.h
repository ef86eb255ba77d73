// The Python optipfair library's calculate_bias_metrics, reproduced number for number.
//
// Python takes, for every captured key, d = mean(|a1 - a2|) over tokens and units: one float32 value
// per key (its batch dimension is 1). From those values it builds
//   layer_metrics[key]          mean/max/min/std/l1/l2 of the single value (so std is NaN),
//   component_metrics[type]     the same statistics over the keys of one component type, num_layers,
//                               and progression_metrics when the type has at least two layers,
//   overall_metrics             the same over all keys, total_layers.
// Statistics are float32 results (torch) widened to double; std is the unbiased one (n - 1).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace optipfair {

struct DiffStats {
  double mean = 0, max = 0, min = 0, std = 0, l1 = 0, l2 = 0;  // std is NaN for fewer than 2 values
};

// Statistics of float32 values as torch computes them (accumulated in double, rounded to float32).
DiffStats diff_stats(const std::vector<float>& values);

// per_key: (key, d) in capture order, keys like "gate_proj_layer_3". Returns the Python dict with
// keys layer_metrics, overall_metrics, component_metrics in Python's order; NaN and infinities are
// left as doubles (see json_python_numbers).
nlohmann::ordered_json python_bias_metrics(const std::vector<std::pair<std::string, float>>& per_key);

// Replaces NaN / +-inf doubles anywhere in `j` by the strings "NaN", "Infinity", "-Infinity" (what
// the reference stores; strict JSON has no such numbers and nlohmann would write null).
void json_python_numbers(nlohmann::ordered_json& j);

}  // namespace optipfair
