#include "prune/prune_model.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "model/param_count.h"
#include "prune/apply.h"
#include "prune/calibration.h"
#include "util/error.h"

namespace optipfair {

namespace {

class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void fill_common(PruningStats& s, const Model& before, const Model& after) {
  s.original_parameters = count_parameters(before).total();
  s.pruned_parameters = count_parameters(after).total();
  s.reduction = s.original_parameters - s.pruned_parameters;
  s.percentage_reduction = s.original_parameters > 0 ? static_cast<double>(s.reduction) /
                                                           static_cast<double>(s.original_parameters) * 100
                                                     : 0.0;
  for (const auto& l : before.layers) s.original_intermediate_sizes.push_back(l.intermediate_size());
  const double H = static_cast<double>(after.config.hidden_size);
  for (const auto& l : after.layers) {
    s.intermediate_sizes.push_back(l.intermediate_size());
    s.expansion_rates.push_back(static_cast<double>(l.intermediate_size()) / H * 100);
  }
  s.expansion_rate = s.expansion_rates.empty() ? 0.0 : s.expansion_rates.front();
  s.original_layer_count = static_cast<int64_t>(before.layers.size());
  s.final_layer_count = static_cast<int64_t>(after.layers.size());
}

}  // namespace

PruningType pruning_type_from_name(const std::string& name) {
  std::string u = name;
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "MLP_GLU") return PruningType::MlpGlu;
  if (u == "DEPTH") return PruningType::Depth;
  throw Error("unknown pruning type '" + name + "'; choose MLP_GLU or DEPTH");
}

const char* pruning_type_name(PruningType type) { return type == PruningType::Depth ? "DEPTH" : "MLP_GLU"; }

nlohmann::json PruningStats::to_json() const {
  nlohmann::json j;
  j["original_parameters"] = original_parameters;
  j["pruned_parameters"] = pruned_parameters;
  j["reduction"] = reduction;
  j["percentage_reduction"] = percentage_reduction;
  j["expansion_rate"] = expansion_rate;
  j["pruning_type"] = pruning_type_name(pruning_type);
  j["method"] = method;
  j["original_intermediate_sizes"] = original_intermediate_sizes;
  j["intermediate_sizes"] = intermediate_sizes;
  j["expansion_rates"] = expansion_rates;
  if (pruning_type == PruningType::MlpGlu) j["layer_pruning_percentages"] = layer_pruning_percentages;
  j["original_layer_count"] = original_layer_count;
  j["final_layer_count"] = final_layer_count;
  if (pruning_type == PruningType::Depth) {
    j["layers_removed"] = static_cast<int64_t>(removed_layers.size());
    j["removed_layer_indices"] = removed_layers;
  }
  if (!layer_importance.empty()) j["layer_importance"] = layer_importance;
  nlohmann::json t = nlohmann::json::object();
  for (const auto& [stage, seconds] : timings) t[stage] = seconds;
  j["timings_seconds"] = t;
  return j;
}

PruneResult prune_model(const Model& model, const PruneOptions& options) {
  Stopwatch clock;
  PruningStats stats;
  if (options.type == PruningType::Depth) {
    stats.pruning_type = PruningType::Depth;
    DepthPruningOptions depth = options.depth;
    if (!depth.layer_indices.empty()) depth.layer_selection_method = "custom";
    std::vector<double> importance;
    if (!options.calibration.empty()) {
      importance = layer_importance(model, options.calibration, options.show_progress);
      stats.timings.emplace_back("layer_importance", clock.lap());
      if (depth.layer_scores.empty()) depth.layer_scores = importance;
    }
    stats.method = depth.layer_selection_method;
    const std::vector<int> removed = select_layers_to_remove(static_cast<int64_t>(model.layers.size()), depth);
    stats.timings.emplace_back("plan", clock.lap());
    PruneResult r{remove_layers(model, removed), {}, {}};
    stats.timings.emplace_back("apply", clock.lap());
    fill_common(stats, model, r.model);
    stats.removed_layers = removed;
    stats.layer_importance = importance;
    r.stats = std::move(stats);
    return r;
  }

  stats.pruning_type = PruningType::MlpGlu;
  WidthPruningOptions width = options.width;
  width_options_validate(model, width);  // refuse a bad plan before any slow calibration pass
  if (!options.calibration.empty()) {
    if (width.method != ImportanceMethod::MAW)
      throw Error("calibration-driven pruning works with the MAW (PPM) method only, not " +
                  std::string(importance_method_name(width.method)));
    width.activation_norms = down_input_norms(model, options.calibration, options.show_progress);
    stats.timings.emplace_back("calibration", clock.lap());
  }
  stats.method = std::string(importance_method_name(width.method)) + (width.activation_norms.empty() ? "" : "+calibration");
  PruningPlan plan = plan_width_pruning(model, width);
  stats.timings.emplace_back("importance_and_plan", clock.lap());
  Model pruned = apply_width_pruning(model, plan);
  stats.timings.emplace_back("apply", clock.lap());
  fill_common(stats, model, pruned);
  for (const LayerPlan& lp : plan.layers) stats.layer_pruning_percentages.push_back(lp.pruned ? lp.pruning_percentage : 0.0);
  return PruneResult{std::move(pruned), std::move(plan), std::move(stats)};
}

}  // namespace optipfair
