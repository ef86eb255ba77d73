// Reading a sweep: its rows grouped into points (one per configuration, over folds; one per random
// size, over seeds and folds), the Pareto front of held-out bias reduction against capability
// retained, and the answer to a target such as "capability>=95".
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/sweep.h"

namespace optipfair {

struct MeanSd {
  double mean = 0;
  double sd = 0;  // sample standard deviation (n - 1); 0 for a single value
  int n = 0;      // finite values counted
};
// NaN values are left out; an empty set gives a NaN mean.
MeanSd mean_sd(const std::vector<double>& values);

struct SweepPoint {
  std::string group;               // SweepConfig::group(): random seeds pooled
  SweepConfig config;              // the first configuration of the group (seed 1 for random)
  int rows = 0;                    // folds (x seeds for random)
  MeanSd held_out_reduction;       // percent, positive = less bias on pairs not used to choose
  MeanSd used_reduction;           // percent, on the pairs that chose the neurons
  MeanSd capability;               // percent retained (NaN when not measured)
  double parameters_removed_pct = 0;
  std::map<std::string, MeanSd> held_out_category_reduction;
  bool pareto = false;             // no other point has at least as much of both, and more of one
};

enum class TargetMetric : uint8_t { Capability, HeldOutReduction, UsedReduction, ParametersRemoved };
enum class TargetOp : uint8_t { AtLeast, AtMost, Above, Below };

struct SweepTarget {
  TargetMetric metric = TargetMetric::Capability;
  TargetOp op = TargetOp::AtLeast;
  double value = 0;
  std::string text;  // as given
};
// "capability>=95", "held_out_reduction>5", "parameters_removed<=10" (spaces allowed). Throws Error
// naming the known metrics for an unknown one, or for a malformed condition.
SweepTarget sweep_target_parse(const std::string& text);

struct SweepSummary {
  std::vector<SweepPoint> points;  // in grid order
  std::optional<SweepTarget> target;
  std::optional<size_t> best;      // index into points: the largest mean held-out reduction meeting the target
  std::optional<size_t> best_fairness;  // the same among fairness cuts (hybrid, bias): what --save-best saves
  std::string answer;              // one sentence: the best point, or that none meets the target
  std::string capability_measure;  // what "capability" means in this sweep
};

// Groups, marks the Pareto front (on mean held-out reduction and mean capability; points without a
// capability figure compete on reduction alone) and answers the target (without one: the best
// held-out reduction of any fairness configuration).
SweepSummary sweep_summarize(const SweepResult& result, const std::optional<SweepTarget>& target);

nlohmann::ordered_json sweep_summary_json(const SweepSummary& summary);

}  // namespace optipfair
