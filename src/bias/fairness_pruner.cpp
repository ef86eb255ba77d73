#include "bias/fairness_pruner.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "model/param_count.h"
#include "prune/apply.h"
#include "prune/importance.h"
#include "util/error.h"

namespace optipfair {

FairnessMethod fairness_method_from_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "hybrid") return FairnessMethod::Hybrid;
  if (lower == "bias") return FairnessMethod::Bias;
  throw Error("unknown fairness pruning method '" + std::string(name) + "' (use hybrid or bias)");
}

const char* fairness_method_name(FairnessMethod method) {
  return method == FairnessMethod::Hybrid ? "hybrid" : "bias";
}

void check_fairness_pairs(const std::vector<PromptPair>& pairs) {
  if (pairs.empty()) throw Error("fairness pruning needs at least one prompt pair");
  for (size_t i = 0; i < pairs.size(); ++i)
    if (pairs[i].prompt1 == pairs[i].prompt2)
      throw Error("prompt pair " + std::to_string(i + 1) + " has two identical prompts ('" + pairs[i].prompt1 +
                  "'), so it cannot show any bias");
}

FairnessPruner::FairnessPruner(const Model& model, const Tokenizer& tokenizer, const std::vector<PromptPair>& pairs,
                               Precision precision)
    : model_(&model) {
  check_fairness_pairs(pairs);
  bias_ = neuron_bias_scores(model, tokenizer, pairs, precision);
  compute_importance();
}

FairnessPruner::FairnessPruner(const Model& model, NeuronBiasScores scores) : model_(&model), bias_(std::move(scores)) {
  if (bias_.per_layer.size() != model.layers.size())
    throw Error("bias scores cover " + std::to_string(bias_.per_layer.size()) + " layers but the model has " +
                std::to_string(model.layers.size()));
  for (size_t l = 0; l < model.layers.size(); ++l)
    if (static_cast<int64_t>(bias_.per_layer[l].size()) != model.layers[l].intermediate_size())
      throw Error("bias scores of layer " + std::to_string(l) + " do not match its width");
  compute_importance();
}

void FairnessPruner::compute_importance() {
  importance_.clear();
  for (const LayerWeights& layer : model_->layers) importance_.push_back(neuron_importance(layer, ImportanceMethod::MAW));
}

namespace {

// (x - min) / (max - min + 1e-8) in float32, as torch does on a float32 tensor.
std::vector<float> minmax(const std::vector<float>& x) {
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  const float min = *lo;
  const float range = (*hi - min) + 1e-8f;
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = (x[i] - min) / range;
  return out;
}

}  // namespace

std::vector<float> FairnessPruner::prunability(int layer, FairnessMethod method, double bias_weight) const {
  if (layer < 0 || layer >= static_cast<int>(bias_.per_layer.size()))
    throw Error("layer " + std::to_string(layer) + " does not exist");
  const std::vector<float>& bias = bias_.per_layer[layer];
  if (method == FairnessMethod::Bias) return bias;
  const std::vector<float> b = minmax(bias);
  const std::vector<float> m = minmax(importance_[layer]);
  // torch multiplies a float32 tensor by a Python float at float32 precision.
  const float w = static_cast<float>(bias_weight);
  const float wc = static_cast<float>(1.0 - bias_weight);
  std::vector<float> out(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    const float first = w * b[i];
    const float second = wc * (1.0f - m[i]);
    out[i] = first + second;
  }
  return out;
}

void FairnessPruner::validate(const FairnessPlan& p) const { validate_fairness_plan(*model_, p); }

namespace {

WidthPruningOptions width_options_of(const FairnessPlan& p) {
  WidthPruningOptions o;
  static_cast<WidthTarget&>(o) = p;
  return o;
}

}  // namespace

void validate_fairness_plan(const Model& model, const FairnessPlan& p) {
  if (p.method == FairnessMethod::Hybrid && !(p.bias_weight >= 0 && p.bias_weight <= 1))
    throw Error("bias weight must be between 0 and 1, got " + std::to_string(p.bias_weight));
  width_options_validate(model, width_options_of(p));
}

PruningPlan FairnessPruner::plan(const FairnessPlan& p) const {
  validate(p);
  WidthPruningOptions o = width_options_of(p);
  // Lowest prunability kept: the planner keeps the highest scores, so rank by the negated score
  // (exact in float); ties go to the lower index, as everywhere.
  for (int l = 0; l < static_cast<int>(model_->layers.size()); ++l) {
    std::vector<float> keep = prunability(l, p.method, p.bias_weight);
    for (float& v : keep) v = -v;
    o.scores.push_back(std::move(keep));
  }
  return plan_width_pruning(*model_, o);
}

FairnessPruneResult FairnessPruner::prune(const FairnessPlan& p, PruneMode mode) const {
  PruningPlan pl = plan(p);
  Model pruned = apply_pruning_plan(*model_, pl, mode);
  FairnessPruneResult r{std::move(pruned), std::move(pl), 0, 0};
  r.parameters_before = count_parameters(*model_).total();
  r.parameters_after = r.parameters_before - plan_parameters_removed(*model_, r.plan);
  return r;
}

nlohmann::ordered_json fairness_plan_json(const FairnessPlan& p, const PruningPlan& result) {
  nlohmann::ordered_json j;
  j["method"] = fairness_method_name(p.method);
  if (p.method == FairnessMethod::Hybrid) j["bias_weight"] = p.bias_weight;
  if (p.pruning_percentage) j["pruning_percentage"] = *p.pruning_percentage;
  if (p.expansion_rate) j["expansion_rate"] = *p.expansion_rate;
  if (!p.layer_indices.empty()) j["layer_indices"] = p.layer_indices;
  if (!p.layer_percentages.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [l, v] : p.layer_percentages) m[std::to_string(l)] = v;
    j["layer_percentages"] = m;
  }
  if (p.expansion_divisor) j["expansion_divisor"] = *p.expansion_divisor;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const LayerPlan& lp : result.layers) {
    nlohmann::ordered_json one;
    one["layer"] = lp.layer;
    one["original_size"] = lp.original_size;
    one["new_size"] = lp.new_size;
    std::vector<int64_t> removed;
    size_t k = 0;
    for (int64_t i = 0; i < lp.original_size; ++i) {
      if (k < lp.kept.size() && lp.kept[k] == i) ++k;
      else removed.push_back(i);
    }
    one["removed"] = removed;
    layers.push_back(one);
  }
  j["layers"] = layers;
  return j;
}

}  // namespace optipfair
