#include "bias/bias_summary.h"

namespace optipfair {

BiasSummary bias_summarize(const BiasAnalysis& a) {
  BiasSummary s;
  s.pairs = static_cast<int64_t>(a.pairs.size());
  s.per_layer.assign(static_cast<size_t>(a.num_layers), 0);
  std::vector<int64_t> layer_counts(static_cast<size_t>(a.num_layers), 0);
  std::map<std::string, int64_t> category_counts;
  for (const PairAnalysis& p : a.pairs) {
    s.mean_difference += p.mean_difference;
    s.per_category[p.pair.category] += p.mean_difference;
    ++category_counts[p.pair.category];
    for (const KeyDifference& d : p.differences) {
      s.per_layer[static_cast<size_t>(d.layer)] += d.mean_abs;
      ++layer_counts[static_cast<size_t>(d.layer)];
    }
  }
  if (s.pairs > 0) s.mean_difference /= static_cast<double>(s.pairs);
  for (size_t l = 0; l < s.per_layer.size(); ++l)
    if (layer_counts[l]) s.per_layer[l] /= static_cast<double>(layer_counts[l]);
  for (auto& [category, sum] : s.per_category) sum /= static_cast<double>(category_counts[category]);
  return s;
}

double percent_change(double before, double after) { return before != 0 ? (after - before) / before * 100 : 0; }

}  // namespace optipfair
