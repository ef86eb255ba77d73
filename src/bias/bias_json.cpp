// The JSON files of a bias analysis: bias_metrics.json (Python-compatible, per pair, plus our keys),
// bias_summary.json (aggregates) and neuron_bias_scores.json.
#include <cmath>
#include <map>
#include <numeric>

#include "bias/bias_analysis.h"
#include "bias/python_metrics.h"

namespace optipfair {

namespace {

struct Moments {
  double sum = 0, sum_sq = 0, mn = INFINITY, mx = -INFINITY;
  size_t n = 0;
  void add(double x) {
    sum += x;
    sum_sq += x * x;
    mn = std::min(mn, x);
    mx = std::max(mx, x);
    ++n;
  }
  double mean() const { return n ? sum / static_cast<double>(n) : NAN; }
  double std_unbiased() const {
    if (n < 2) return NAN;
    const double m = mean();
    return std::sqrt(std::max(0.0, (sum_sq - static_cast<double>(n) * m * m) / static_cast<double>(n - 1)));
  }
};

}  // namespace

nlohmann::ordered_json bias_aggregate(const BiasAnalysis& analysis, const std::vector<size_t>& indices_in) {
  std::vector<size_t> indices = indices_in;
  if (indices.empty()) {
    indices.resize(analysis.pairs.size());
    std::iota(indices.begin(), indices.end(), size_t{0});
  }
  nlohmann::ordered_json j;
  Moments overall;
  size_t aligned = 0, identical = 0;
  for (size_t i : indices) {
    overall.add(analysis.pairs[i].mean_difference);
    aligned += analysis.pairs[i].equal_length ? 0 : 1;
    identical += analysis.pairs[i].identical ? 1 : 0;
  }
  j["num_pairs"] = indices.size();
  j["num_pairs_aligned"] = aligned;
  j["num_pairs_identical"] = identical;
  j["mean_difference"] = overall.mean();
  j["std_over_pairs"] = overall.std_unbiased();
  j["min_pair_mean_difference"] = overall.mn;
  j["max_pair_mean_difference"] = overall.mx;

  // Per key over pairs: mean |difference|, mean signed difference, and the signed direction.
  const auto& first = analysis.pairs[indices.front()].differences;
  std::map<std::string, std::vector<nlohmann::ordered_json>> by_component;
  nlohmann::ordered_json components = nlohmann::ordered_json::object();
  nlohmann::ordered_json directions = nlohmann::ordered_json::object();
  std::vector<std::string> comp_order;
  std::map<std::string, Moments> comp_moments;
  std::map<std::string, nlohmann::ordered_json> comp_layers;
  for (size_t k = 0; k < first.size(); ++k) {
    const std::string& key = first[k].key;
    const std::string comp = component_name(first[k].component);
    Moments m, s;
    std::vector<double> mean_dir(first[k].direction.size(), 0.0);
    double norm_sum = 0;
    for (size_t i : indices) {
      const KeyDifference& d = analysis.pairs[i].differences[k];
      m.add(d.mean_abs);
      s.add(d.signed_mean);
      double nn = 0;
      for (size_t w = 0; w < d.direction.size(); ++w) {
        mean_dir[w] += d.direction[w];
        nn += static_cast<double>(d.direction[w]) * d.direction[w];
      }
      norm_sum += std::sqrt(nn);
    }
    double mean_norm = 0;
    for (double& v : mean_dir) {
      v /= static_cast<double>(indices.size());
      mean_norm += v * v;
    }
    mean_norm = std::sqrt(mean_norm);
    const double avg_norm = norm_sum / static_cast<double>(indices.size());
    const double W = static_cast<double>(std::max<size_t>(mean_dir.size(), 1));
    directions[key] = {{"signed_mean_difference", s.mean()},
                       {"direction_rms", mean_norm / std::sqrt(W)},
                       {"consistency", avg_norm > 0 ? mean_norm / avg_norm : NAN}};
    if (!comp_moments.count(comp)) {
      comp_order.push_back(comp);
      comp_layers[comp] = nlohmann::ordered_json::object();
    }
    comp_moments[comp].add(m.mean());
    comp_layers[comp][key] = {{"mean_difference", m.mean()}, {"std_over_pairs", m.std_unbiased()}};
  }
  for (const std::string& comp : comp_order) {
    const nlohmann::ordered_json& layers = comp_layers[comp];
    std::string max_key;
    double max_v = -INFINITY;
    for (auto& [key, v] : layers.items())
      if (v["mean_difference"].get<double>() > max_v) {
        max_v = v["mean_difference"].get<double>();
        max_key = key;
      }
    components[comp] = {{"mean_difference", comp_moments[comp].mean()},
                        {"layer_with_max_diff", max_key},
                        {"layers", layers}};
  }
  j["component_metrics"] = components;
  // consistency = |mean over pairs of the direction| / mean over pairs of |direction|: 1 when every
  // pair pushes the activations the same way, near 0 when the directions cancel out.
  j["signed_direction"] = directions;
  return j;
}

nlohmann::ordered_json bias_metrics_json(const BiasAnalysis& analysis) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (size_t i = 0; i < analysis.pairs.size(); ++i) {
    const PairAnalysis& pa = analysis.pairs[i];
    nlohmann::ordered_json p;
    p["prompt1"] = pa.pair.prompt1;
    p["prompt2"] = pa.pair.prompt2;
    p["metrics"] = pa.python_metrics;
    // Our additions, beside the Python keys.
    p["category"] = pa.pair.category;
    p["ids1"] = pa.ids1;
    p["ids2"] = pa.ids2;
    p["tokens1"] = pa.tokens1;
    p["tokens2"] = pa.tokens2;
    p["identical"] = pa.identical;
    if (!pa.note.empty()) p["note"] = pa.note;
    p["alignment"] = pa.alignment.to_json();
    p["aligned_metrics"] = pa.aligned_metrics;
    nlohmann::ordered_json per_token = nlohmann::ordered_json::object(), signed_diff = nlohmann::ordered_json::object();
    for (const KeyDifference& d : pa.differences) {
      per_token[d.key] = d.per_token;
      signed_diff[d.key] = d.signed_mean;
    }
    p["token_differences"] = per_token;
    p["signed_mean_differences"] = signed_diff;
    out["pair_" + std::to_string(i + 1)] = p;
  }
  json_python_numbers(out);
  return out;
}

nlohmann::ordered_json bias_summary_json(const BiasAnalysis& analysis) {
  nlohmann::ordered_json j;
  j["num_pairs"] = analysis.pairs.size();
  nlohmann::ordered_json comps = nlohmann::ordered_json::array();
  for (Component c : analysis.components) comps.push_back(component_name(c));
  j["components"] = comps;
  j["num_layers"] = analysis.num_layers;
  j["plot_layers"] = analysis.plot_layers;
  j["activations"] = analysis.precision == Precision::Fast ? "fast: activations may be rounded to bf16 inside matrix products with BF16 weights"
                                   : "exact: float32 activations in every matrix product";
  j["forward_calls"] = analysis.forward_calls;
  j["sequences_processed"] = analysis.sequences_processed;
  j["seconds"] = {{"tokenize", analysis.seconds_tokenize},
                  {"forward", analysis.seconds_forward},
                  {"metrics", analysis.seconds_metrics}};
  j["all_pairs"] = bias_aggregate(analysis);
  std::map<std::string, std::vector<size_t>> cats;
  std::vector<std::string> order;
  for (size_t i = 0; i < analysis.pairs.size(); ++i) {
    const std::string c = analysis.pairs[i].pair.category.empty() ? "uncategorised" : analysis.pairs[i].pair.category;
    if (!cats.count(c)) order.push_back(c);
    cats[c].push_back(i);
  }
  nlohmann::ordered_json per_cat = nlohmann::ordered_json::object();
  for (const std::string& c : order) per_cat[c] = bias_aggregate(analysis, cats[c]);
  j["per_category"] = per_cat;
  nlohmann::ordered_json pairs = nlohmann::ordered_json::array();
  for (size_t i = 0; i < analysis.pairs.size(); ++i) {
    const PairAnalysis& pa = analysis.pairs[i];
    pairs.push_back({{"pair", "pair_" + std::to_string(i + 1)},
                     {"category", pa.pair.category},
                     {"mean_difference", pa.mean_difference},
                     {"python_compatible", pa.equal_length},
                     {"identical", pa.identical},
                     {"alignment", pa.alignment.describe()}});
  }
  j["pairs"] = pairs;
  json_python_numbers(j);
  return j;
}

nlohmann::ordered_json neuron_scores_json(const NeuronBiasScores& scores) {
  nlohmann::ordered_json j;
  j["formula"] = "mean over pairs of (mean_t |gate1[t,i] - gate2[t,i]| + mean_t |up1[t,i] - up2[t,i]|), t over aligned tokens";
  j["num_pairs"] = scores.num_pairs;
  nlohmann::ordered_json layers = nlohmann::ordered_json::object();
  for (size_t l = 0; l < scores.per_layer.size(); ++l) layers["layer_" + std::to_string(l)] = scores.per_layer[l];
  j["layers"] = layers;
  json_python_numbers(j);
  return j;
}

}  // namespace optipfair
