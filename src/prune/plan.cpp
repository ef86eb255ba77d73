#include "prune/plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include "util/error.h"

namespace optipfair {

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_percentage(double p, const std::string& what) {
  if (!(p >= 0.0 && p < 100.0))
    throw Error(what + " must be at least 0 and below 100" + (p >= 100.0 ? " (100 % would remove every neuron)" : "") +
                ", got " + number(p));
}

void check_layer(int layer, int64_t n_layers) {
  if (layer < 0 || layer >= n_layers)
    throw Error("layer " + std::to_string(layer) + " does not exist: the model has " + std::to_string(n_layers) +
                " layers (0-" + std::to_string(n_layers - 1) + ")");
}

// The percentage each layer is cut by, or nothing for a layer left alone.
std::vector<std::optional<double>> layer_percentages(const Model& model, const WidthPruningOptions& o) {
  const auto n = model.layers.size();
  std::vector<std::optional<double>> out(n);
  if (!o.layer_percentages.empty()) {
    for (const auto& [layer, p] : o.layer_percentages) out[static_cast<size_t>(layer)] = p;
    return out;
  }
  std::vector<bool> selected(n, o.layer_indices.empty());
  for (int l : o.layer_indices) selected[static_cast<size_t>(l)] = true;
  for (size_t l = 0; l < n; ++l) {
    if (!selected[l]) continue;
    if (o.expansion_rate)
      out[l] = expansion_rate_to_percentage(model.layers[l].intermediate_size(), model.config.hidden_size,
                                            *o.expansion_rate);
    else
      out[l] = o.pruning_percentage.value_or(10.0);
  }
  return out;
}

}  // namespace

std::vector<std::vector<int64_t>> PruningPlan::kept_per_layer() const {
  std::vector<std::vector<int64_t>> out;
  for (const LayerPlan& l : layers) out.push_back(l.kept);
  return out;
}

int64_t neurons_to_keep(int64_t intermediate_size, double percentage) {
  // Same expression and evaluation order as Python's int(p / 100 * I), so the truncation agrees.
  const double x = percentage / 100 * static_cast<double>(intermediate_size);
  const int64_t pruned = std::min(static_cast<int64_t>(std::trunc(x)), intermediate_size - 1);
  return intermediate_size - pruned;
}

double expansion_rate_to_percentage(int64_t intermediate_size, int64_t hidden_size, double expansion_rate) {
  if (!(expansion_rate > 0)) throw Error("expansion rate must be positive, got " + number(expansion_rate));
  const double I = static_cast<double>(intermediate_size), H = static_cast<double>(hidden_size);
  const double current = I / H * 100;
  const double target = expansion_rate / 100 * H;
  if (target >= I)
    throw Error("target expansion rate " + number(expansion_rate) + "% would not shrink the MLP: the current rate is " +
                number(std::round(current * 100) / 100) + "% (" + std::to_string(intermediate_size) +
                " neurons for a hidden size of " + std::to_string(hidden_size) + ")");
  return (1 - target / I) * 100;
}

int64_t round_to_divisor(int64_t k, int64_t intermediate_size, int64_t divisor) {
  const int64_t largest = intermediate_size / divisor * divisor;
  if (largest == 0) return k;
  // nearbyint under the default rounding mode rounds halves to even, like Python's round().
  int64_t r = static_cast<int64_t>(std::nearbyint(static_cast<double>(k) / static_cast<double>(divisor))) * divisor;
  return std::clamp<int64_t>(r, divisor, largest);
}

std::vector<int64_t> select_top_neurons(std::span<const float> scores, int64_t k) {
  const int64_t n = static_cast<int64_t>(scores.size());
  if (k < 0 || k > n) throw Error("cannot keep " + std::to_string(k) + " of " + std::to_string(n) + " neurons");
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  auto better = [&](int64_t a, int64_t b) {
    const float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
    if (std::isnan(sb)) return !std::isnan(sa);
    if (std::isnan(sa)) return false;
    return sa > sb;
  };
  std::stable_sort(order.begin(), order.end(), better);
  order.resize(static_cast<size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

void width_options_validate(const Model& model, const WidthPruningOptions& o) {
  const int64_t n = static_cast<int64_t>(model.layers.size());
  if (n == 0) throw Error("the model has no decoder layers to prune");
  for (const LayerWeights& l : model.layers) require_glu(l);
  if (o.pruning_percentage && o.expansion_rate)
    throw Error("pruning percentage and expansion rate are mutually exclusive; give only one");
  if (!o.layer_percentages.empty()) {
    if (o.pruning_percentage || o.expansion_rate || !o.layer_indices.empty())
      throw Error("a per-layer pruning map replaces the pruning percentage, expansion rate and layer indices; give only the map");
    for (const auto& [layer, p] : o.layer_percentages) {
      check_layer(layer, n);
      check_percentage(p, "the pruning percentage of layer " + std::to_string(layer));
    }
  }
  std::set<int> seen;
  for (int l : o.layer_indices) {
    check_layer(l, n);
    if (!seen.insert(l).second) throw Error("layer " + std::to_string(l) + " is listed twice in the layer indices");
  }
  if (o.pruning_percentage) check_percentage(*o.pruning_percentage, "pruning percentage");
  if (o.expansion_divisor) {
    const int64_t d = *o.expansion_divisor;
    if (d != 32 && d != 64 && d != 128 && d != 256)
      throw Error("expansion divisor must be 32, 64, 128 or 256, got " + std::to_string(d));
  }
  if (!o.scores.empty()) {
    if (!o.activation_norms.empty()) throw Error("give either calibration statistics or outside scores, not both");
    if (static_cast<int64_t>(o.scores.size()) != n)
      throw Error("the neuron scores cover " + std::to_string(o.scores.size()) + " layers but the model has " +
                  std::to_string(n));
    for (size_t l = 0; l < o.scores.size(); ++l)
      if (static_cast<int64_t>(o.scores[l].size()) != model.layers[l].intermediate_size())
        throw Error("the neuron scores of layer " + std::to_string(l) + " hold " + std::to_string(o.scores[l].size()) +
                    " values for " + std::to_string(model.layers[l].intermediate_size()) + " neurons");
  }
  if (!o.activation_norms.empty()) {
    if (o.method != ImportanceMethod::MAW)
      throw Error("calibration-driven pruning works with the MAW (PPM) method only, not " +
                  std::string(importance_method_name(o.method)));
    if (static_cast<int64_t>(o.activation_norms.size()) != n)
      throw Error("calibration statistics cover " + std::to_string(o.activation_norms.size()) + " layers but the model has " +
                  std::to_string(n));
  }
  // Rates are checked per layer: each must lie below that layer's current width.
  for (const auto& p : layer_percentages(model, o))
    if (p) check_percentage(*p, "the pruning percentage");
}

PruningPlan plan_width_pruning(const Model& model, const WidthPruningOptions& o) {
  width_options_validate(model, o);
  const auto percentages = layer_percentages(model, o);
  PruningPlan plan;
  plan.layers.resize(model.layers.size());
  for (size_t l = 0; l < model.layers.size(); ++l) {
    LayerPlan& lp = plan.layers[l];
    const LayerWeights& w = model.layers[l];
    lp.layer = static_cast<int>(l);
    lp.original_size = w.intermediate_size();
    if (!percentages[l] || *percentages[l] == 0) {
      lp.new_size = lp.original_size;
      lp.kept.resize(static_cast<size_t>(lp.original_size));
      std::iota(lp.kept.begin(), lp.kept.end(), 0);
      continue;
    }
    lp.pruned = true;
    lp.pruning_percentage = *percentages[l];
    int64_t k = neurons_to_keep(lp.original_size, lp.pruning_percentage);
    if (o.expansion_divisor) k = round_to_divisor(k, lp.original_size, *o.expansion_divisor);
    lp.new_size = k;
    if (!o.scores.empty()) lp.scores = o.scores[l];
    else if (!o.activation_norms.empty()) lp.scores = neuron_importance_calibrated(w, o.activation_norms[l]);
    else lp.scores = neuron_importance(w, o.method);
    lp.kept = select_top_neurons(lp.scores, k);
  }
  return plan;
}

}  // namespace optipfair
