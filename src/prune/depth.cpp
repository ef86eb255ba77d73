#include "prune/depth.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include "util/error.h"

namespace optipfair {

std::vector<int> select_layers_to_remove(int64_t n, const DepthPruningOptions& o) {
  const int given = (o.num_layers_to_remove ? 1 : 0) + (o.layer_indices.empty() ? 0 : 1) +
                    (o.depth_pruning_percentage ? 1 : 0);
  if (given == 0)
    throw Error("depth pruning needs one of: a number of layers to remove, layer indices, or a depth pruning percentage");
  if (given > 1)
    throw Error("the number of layers to remove, the layer indices and the depth pruning percentage are mutually exclusive; give only one");
  const std::string& method = o.layer_selection_method;
  if (method != "last" && method != "first" && method != "custom" && method != "importance")
    throw Error("layer selection method must be last, first, custom or importance, got '" + method + "'");

  if (!o.layer_indices.empty()) {
    std::set<int> seen;
    for (int l : o.layer_indices) {
      if (l < 0 || l >= n)
        throw Error("layer " + std::to_string(l) + " does not exist: the model has " + std::to_string(n) + " layers (0-" +
                    std::to_string(n - 1) + ")");
      if (!seen.insert(l).second) throw Error("layer " + std::to_string(l) + " is listed twice in the layer indices");
    }
    if (static_cast<int64_t>(seen.size()) >= n)
      throw Error("cannot remove all " + std::to_string(n) + " layers of the model");
    return {seen.begin(), seen.end()};
  }
  if (method == "custom") throw Error("layer selection method 'custom' needs the layer indices to remove");

  int64_t count = 0;
  if (o.num_layers_to_remove) {
    count = *o.num_layers_to_remove;
    if (count <= 0) throw Error("the number of layers to remove must be positive, got " + std::to_string(count));
  } else {
    const double p = *o.depth_pruning_percentage;
    std::ostringstream ps;
    ps << p;
    if (!(p > 0 && p < 100)) throw Error("depth pruning percentage must be above 0 and below 100, got " + ps.str());
    count = static_cast<int64_t>(std::trunc(static_cast<double>(n) * p / 100));
    if (count == 0) throw Error("a depth pruning percentage of " + ps.str() + "% removes no layer of " + std::to_string(n));
  }
  if (count >= n)
    throw Error("cannot remove " + std::to_string(count) + " layers from a model with " + std::to_string(n) + " layers");

  std::vector<int> out;
  if (method == "first") {
    for (int64_t i = 0; i < count; ++i) out.push_back(static_cast<int>(i));
  } else if (method == "last") {
    for (int64_t i = n - count; i < n; ++i) out.push_back(static_cast<int>(i));
  } else {  // importance: least-changing layers first, ties to the later layer
    if (static_cast<int64_t>(o.layer_scores.size()) != n)
      throw Error("layer selection by importance needs one score per layer (calibration text); got " +
                  std::to_string(o.layer_scores.size()) + " for " + std::to_string(n) + " layers");
    std::vector<int> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      const double sa = o.layer_scores[static_cast<size_t>(a)], sb = o.layer_scores[static_cast<size_t>(b)];
      return sa < sb || (sa == sb && a > b);
    });
    out.assign(order.begin(), order.begin() + count);
    std::sort(out.begin(), out.end());
  }
  return out;
}

Model remove_layers(const Model& model, const std::vector<int>& layers_to_remove) {
  const int64_t n = static_cast<int64_t>(model.layers.size());
  std::vector<bool> drop(static_cast<size_t>(n), false);
  for (int l : layers_to_remove) {
    if (l < 0 || l >= n) throw Error("layer " + std::to_string(l) + " does not exist in a model with " + std::to_string(n) + " layers");
    drop[static_cast<size_t>(l)] = true;
  }
  Model out = model;
  out.layers.clear();
  out.config.intermediate_sizes.clear();
  for (int64_t l = 0; l < n; ++l) {
    if (drop[static_cast<size_t>(l)]) continue;
    out.layers.push_back(model.layers[static_cast<size_t>(l)]);
    out.config.intermediate_sizes.push_back(model.layers[static_cast<size_t>(l)].intermediate_size());
  }
  if (out.layers.empty()) throw Error("cannot remove every layer of the model");
  out.config.num_hidden_layers = static_cast<int64_t>(out.layers.size());
  out.config.intermediate_size =
      *std::max_element(out.config.intermediate_sizes.begin(), out.config.intermediate_sizes.end());
  if (!model.config.layer_types.empty()) {  // each kept layer keeps its kind (sliding or global)
    out.config.layer_types.clear();
    for (int64_t l = 0; l < n; ++l)
      if (!drop[static_cast<size_t>(l)]) out.config.layer_types.push_back(model.config.layer_types[static_cast<size_t>(l)]);
  }
  // Per-layer lists in the config (Qwen's layer_types) must lose the same entries.
  auto& raw = out.config.raw;
  if (raw.is_object() && raw.contains("layer_types") && raw["layer_types"].is_array() &&
      static_cast<int64_t>(raw["layer_types"].size()) == n) {
    nlohmann::json kept = nlohmann::json::array();
    for (int64_t l = 0; l < n; ++l)
      if (!drop[static_cast<size_t>(l)]) kept.push_back(raw["layer_types"][static_cast<size_t>(l)]);
    raw["layer_types"] = kept;
  }
  if (raw.is_object()) raw["num_hidden_layers"] = out.config.num_hidden_layers;
  return out;
}

}  // namespace optipfair
