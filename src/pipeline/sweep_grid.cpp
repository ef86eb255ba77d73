#include "pipeline/sweep_grid.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "util/error.h"

namespace optipfair {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Shortest text that reads back as the same double ("5", "0.2", "12.5").
std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));  // not "1e+01"
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

double read_number(const std::string& text, const std::string& what) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double v = t.empty() ? NAN : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v))
    throw Error("cannot read " + what + " \"" + text + "\" as a number");
  return v;
}

int read_layer(const std::string& text, int num_layers, const std::string& spec) {
  const double v = read_number(text, "the layer index");
  if (v != std::floor(v) || v < 0 || v >= num_layers)
    throw Error("layer set \"" + spec + "\" names layer " + trim(text) + ", but the model has layers 0-" +
                std::to_string(num_layers - 1));
  return static_cast<int>(v);
}

}  // namespace

SweepMethod sweep_method_from_name(std::string_view name) {
  const std::string n = lower(name);
  if (n == "hybrid") return SweepMethod::Hybrid;
  if (n == "bias") return SweepMethod::Bias;
  if (n == "importance") return SweepMethod::Importance;
  if (n == "random") return SweepMethod::Random;
  throw Error("unknown sweep method \"" + std::string(name) + "\" (expected hybrid, bias, importance or random)");
}

const char* sweep_method_name(SweepMethod method) {
  switch (method) {
    case SweepMethod::Hybrid: return "hybrid";
    case SweepMethod::Bias: return "bias";
    case SweepMethod::Importance: return "importance";
    case SweepMethod::Random: return "random";
  }
  return "?";
}

LayerSet layer_set_from_spec(const std::string& spec, int num_layers) {
  const std::string s = lower(trim(spec));
  LayerSet set;
  set.name = s;
  if (s == "all") return set;
  auto range = [&](int from, int to) {
    for (int l = from; l < to; ++l) set.layers.push_back(l);
  };
  if (s == "first-half") range(0, num_layers / 2);
  else if (s == "last-half") range(num_layers / 2, num_layers);
  else if (s == "last-quarter") range(num_layers - std::max(1, num_layers / 4), num_layers);
  else {
    if (s.empty() || s.find_first_not_of("0123456789,- ") != std::string::npos)
      throw Error("unknown layer set \"" + spec +
                  "\" (expected all, first-half, last-half, last-quarter, or indices such as 12,13 or 12-15)");
    std::set<int> chosen;
    size_t start = 0;
    while (start <= s.size()) {
      const size_t comma = std::min(s.find(',', start), s.size());
      const std::string item = s.substr(start, comma - start);
      start = comma + 1;
      if (trim(item).empty()) continue;
      const size_t dash = item.find('-');
      if (dash == std::string::npos) {
        chosen.insert(read_layer(item, num_layers, spec));
      } else {
        const int from = read_layer(item.substr(0, dash), num_layers, spec);
        const int to = read_layer(item.substr(dash + 1), num_layers, spec);
        if (to < from) throw Error("layer set \"" + spec + "\" has a range that runs backwards");
        for (int l = from; l <= to; ++l) chosen.insert(l);
      }
    }
    set.layers.assign(chosen.begin(), chosen.end());
  }
  if (set.layers.empty()) throw Error("layer set \"" + spec + "\" selects no layer of this model");
  return set;
}

std::vector<double> parse_percentages(const std::string& spec) {
  std::vector<double> out;
  const std::string s = trim(spec);
  if (std::count(s.begin(), s.end(), ':') == 2) {
    const size_t a = s.find(':'), b = s.find(':', a + 1);
    const double start = read_number(s.substr(0, a), "the range start");
    const double stop = read_number(s.substr(a + 1, b - a - 1), "the range stop");
    const double step = read_number(s.substr(b + 1), "the range step");
    if (!(step > 0)) throw Error("the percentage range \"" + spec + "\" needs a positive step");
    // Index arithmetic, not repeated addition, so 0:1:0.1 ends at exactly 1.
    for (int64_t i = 0;; ++i) {
      const double v = start + static_cast<double>(i) * step;
      if (v > stop + step * 1e-9) break;
      out.push_back(std::round(v * 1e9) / 1e9);
      if (out.size() > 10000) throw Error("the percentage range \"" + spec + "\" has more than 10,000 values");
    }
  } else {
    size_t start = 0;
    while (start <= s.size()) {
      const size_t comma = std::min(s.find(',', start), s.size());
      const std::string item = s.substr(start, comma - start);
      start = comma + 1;
      if (!trim(item).empty()) out.push_back(read_number(item, "the percentage"));
    }
  }
  if (out.empty()) throw Error("no pruning percentage in \"" + spec + "\"");
  for (double p : out)
    if (p < 0 || p >= 100) throw Error("pruning percentage " + number_text(p) + " is outside [0, 100)");
  return out;
}

std::string SweepConfig::group() const {
  std::string k = sweep_method_name(method);
  if (method == SweepMethod::Hybrid) k += " w=" + number_text(bias_weight);
  k += " p=" + number_text(percentage) + " layers=" + layers.name + " mode=" + prune_mode_name(mode);
  return k;
}

std::string SweepConfig::key() const {
  return method == SweepMethod::Random ? group() + " seed=" + std::to_string(seed) : group();
}

std::vector<SweepConfig> sweep_grid_expand(const SweepGrid& grid, int num_layers) {
  if (grid.methods.empty()) throw Error("the sweep has no method to try");
  if (grid.percentages.empty()) throw Error("the sweep has no pruning percentage to try");
  if (grid.layer_sets.empty()) throw Error("the sweep has no layer set to try");
  if (grid.modes.empty()) throw Error("the sweep has no mode to try");
  for (double w : grid.bias_weights)
    if (!(w >= 0 && w <= 1)) throw Error("bias weight " + number_text(w) + " is outside [0, 1]");
  for (double p : grid.percentages)
    if (!(p >= 0 && p < 100)) throw Error("pruning percentage " + number_text(p) + " is outside [0, 100)");
  std::vector<LayerSet> sets;
  for (const std::string& spec : grid.layer_sets) sets.push_back(layer_set_from_spec(spec, num_layers));

  std::vector<SweepConfig> out;
  std::set<std::string> seen;
  for (SweepMethod method : grid.methods) {
    std::vector<double> weights{0};
    std::vector<int> seeds{0};
    if (method == SweepMethod::Hybrid) {
      if (grid.bias_weights.empty()) throw Error("the hybrid method needs at least one bias weight");
      weights = grid.bias_weights;
    }
    if (method == SweepMethod::Random) {
      if (grid.random_seeds < 1) throw Error("the random baseline needs at least one seed (--random-seeds)");
      seeds.clear();
      for (int s = 1; s <= grid.random_seeds; ++s) seeds.push_back(s);
    }
    for (PruneMode mode : grid.modes)
      for (const LayerSet& set : sets)
        for (double p : grid.percentages)
          for (double w : weights)
            for (int seed : seeds) {
              SweepConfig c{method, w, p, set, mode, seed};
              if (seen.insert(c.key()).second) out.push_back(std::move(c));  // a value listed twice runs once
            }
  }
  return out;
}

int64_t smallest_category_size(const std::vector<PromptPair>& pairs) {
  std::map<std::string, int64_t> counts;
  for (const PromptPair& p : pairs) ++counts[p.category];
  int64_t smallest = 0;
  for (const auto& [category, n] : counts) smallest = smallest == 0 ? n : std::min(smallest, n);
  return smallest;
}

std::vector<Fold> stratified_folds(const std::vector<PromptPair>& pairs, int k, uint64_t seed) {
  if (k < 2) throw Error("a held-out split needs at least 2 folds");
  std::map<std::string, std::vector<size_t>> by_category;  // ordered: the split never depends on hashing
  for (size_t i = 0; i < pairs.size(); ++i) by_category[pairs[i].category].push_back(i);
  for (const auto& [category, members] : by_category)
    if (static_cast<int64_t>(members.size()) < k)
      throw Error("category \"" + (category.empty() ? std::string("(none)") : category) + "\" has " +
                  std::to_string(members.size()) + " pair(s), fewer than the " + std::to_string(k) +
                  " folds: some fold would hold none of it (use fewer --folds or more pairs)");
  std::vector<std::vector<size_t>> held(static_cast<size_t>(k));
  std::mt19937_64 rng(seed);
  size_t next = 0;  // continue dealing where the previous category stopped, so fold sizes stay even
  for (auto& [category, members] : by_category) {
    // Fisher-Yates with our own draws: std::shuffle's sequence differs between standard libraries.
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng() % i]);
    for (size_t m : members) held[next++ % held.size()].push_back(m);
  }
  std::vector<Fold> folds(held.size());
  for (size_t f = 0; f < held.size(); ++f) {
    std::sort(held[f].begin(), held[f].end());
    folds[f].held_out = held[f];
    for (size_t g = 0; g < held.size(); ++g)
      if (g != f) folds[f].train.insert(folds[f].train.end(), held[g].begin(), held[g].end());
    std::sort(folds[f].train.begin(), folds[f].train.end());
  }
  return folds;
}

}  // namespace optipfair
