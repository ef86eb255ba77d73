// The few figures that say how biased a model is on a set of pairs, for comparing two models
// (fair-prune's before/after, the sweep's configurations).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bias/bias_analysis.h"

namespace optipfair {

struct BiasSummary {
  int64_t pairs = 0;
  double mean_difference = 0;                   // mean over pairs of each pair's aligned mean_difference
  std::vector<double> per_layer;                // mean over pairs and components of each layer's mean |a1 - a2|
  std::map<std::string, double> per_category;   // mean_difference over each category's pairs ("" when unlabelled)
};

BiasSummary bias_summarize(const BiasAnalysis& analysis);

// (after - before) / before * 100; 0 when before is 0.
double percent_change(double before, double after);

}  // namespace optipfair
