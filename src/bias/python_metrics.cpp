#include "bias/python_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace optipfair {

namespace {

double f32(double x) { return static_cast<double>(static_cast<float>(x)); }

nlohmann::ordered_json stats_json(const DiffStats& s) {
  nlohmann::ordered_json j;
  j["mean_difference"] = s.mean;
  j["max_difference"] = s.max;
  j["min_difference"] = s.min;
  j["std_difference"] = s.std;
  j["l1_norm"] = s.l1;
  j["l2_norm"] = s.l2;
  return j;
}

int layer_of(const std::string& key) {
  const size_t p = key.rfind('_');
  return std::stoi(key.substr(p + 1));
}

}  // namespace

DiffStats diff_stats(const std::vector<float>& v) {
  DiffStats s;
  const size_t n = v.size();
  if (n == 0) return s;
  double sum = 0, sum_abs = 0, sum_sq = 0, mx = -std::numeric_limits<double>::infinity(),
         mn = std::numeric_limits<double>::infinity();
  for (float f : v) {
    sum += f;
    sum_abs += std::fabs(f);
    sum_sq += static_cast<double>(f) * f;
    mx = std::max(mx, static_cast<double>(f));
    mn = std::min(mn, static_cast<double>(f));
  }
  const double mean = sum / static_cast<double>(n);
  double var = 0;
  for (float f : v) var += (f - mean) * (f - mean);
  s.mean = f32(mean);
  s.max = mx;
  s.min = mn;
  s.std = n < 2 ? std::numeric_limits<double>::quiet_NaN() : f32(std::sqrt(var / static_cast<double>(n - 1)));
  s.l1 = f32(sum_abs);
  s.l2 = f32(std::sqrt(sum_sq));
  return s;
}

nlohmann::ordered_json python_bias_metrics(const std::vector<std::pair<std::string, float>>& per_key) {
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  if (per_key.empty()) return m;  // Python: "No activation differences could be calculated" -> {}
  m["layer_metrics"] = nlohmann::ordered_json::object();
  m["overall_metrics"] = nlohmann::ordered_json::object();
  m["component_metrics"] = nlohmann::ordered_json::object();

  std::vector<std::string> order;  // component types in order of first appearance
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < per_key.size(); ++i) {
    const std::string& key = per_key[i].first;
    const size_t p = key.find("_layer_");
    if (p == std::string::npos) continue;
    const std::string type = key.substr(0, p);
    if (!groups.count(type)) order.push_back(type);
    groups[type].push_back(i);
  }
  for (const auto& [key, d] : per_key) m["layer_metrics"][key] = stats_json(diff_stats({d}));

  for (const std::string& type : order) {
    std::vector<float> vals;
    for (size_t i : groups[type]) vals.push_back(per_key[i].second);
    nlohmann::ordered_json c = stats_json(diff_stats(vals));
    c["num_layers"] = groups[type].size();
    m["component_metrics"][type] = c;
  }
  std::vector<float> all;
  for (const auto& kv : per_key) all.push_back(kv.second);
  nlohmann::ordered_json o = stats_json(diff_stats(all));
  o["total_layers"] = per_key.size();
  m["overall_metrics"] = o;

  for (const std::string& type : order) {
    std::vector<size_t> idx = groups[type];
    if (idx.size() < 2) continue;
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return layer_of(per_key[a].first) < layer_of(per_key[b].first); });
    std::vector<double> means;
    for (size_t i : idx) means.push_back(static_cast<double>(per_key[i].second));
    const double first = means.front(), last = means.back();
    const auto max_it = std::max_element(means.begin(), means.end());  // first occurrence, as list.index
    const double inf = std::numeric_limits<double>::infinity();
    nlohmann::ordered_json p;
    p["first_to_last_ratio"] = first != 0 ? last / first : inf;
    p["max_to_first_ratio"] = first != 0 ? *max_it / first : inf;
    p["is_increasing"] = last > first;
    p["layer_with_max_diff"] = per_key[idx[static_cast<size_t>(max_it - means.begin())]].first;
    nlohmann::ordered_json by_layer = nlohmann::ordered_json::object();
    for (size_t k = 0; k < idx.size(); ++k) by_layer[per_key[idx[k]].first] = means[k];
    p["mean_diffs_by_layer"] = by_layer;
    m["component_metrics"][type]["progression_metrics"] = p;
  }
  return m;
}

void json_python_numbers(nlohmann::ordered_json& j) {
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (std::isnan(d)) j = "NaN";
    else if (std::isinf(d)) j = d > 0 ? "Infinity" : "-Infinity";
  } else if (j.is_structured()) {
    for (auto& child : j) json_python_numbers(child);
  }
}

}  // namespace optipfair
