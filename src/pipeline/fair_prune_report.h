// What fair-prune writes from a FairPruneResult: fair_prune.json (the keys `optipfair fair-prune`
// has always written, plus per-category figures), neuron_bias_scores.json, the before/after figures
// and a self-contained report.html; and the pruned model with a record of how it was made.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/fair_prune.h"
#include "prune/save_pruned.h"
#include "report/image_format.h"

namespace optipfair {

struct FairPruneReportInfo {
  std::string model_name;       // the original, as the user named it
  std::string command_line;     // shell command that regenerates the report (empty: not shown)
  ImageFormat format = ImageFormat::PNG;
};

// "bias decreased by 2.41 % (mean activation difference 0.0123 -> 0.012)".
std::string fair_prune_headline(const FairPruneResult& result);

nlohmann::ordered_json fair_prune_json(const FairPruneResult& result, const std::string& model_name);

// Writes fair_prune.json, neuron_bias_scores.json, the figures and report.html into `dir` (made if
// missing); returns the report's path.
std::filesystem::path write_fair_prune_report(const FairPruneResult& result, const std::filesystem::path& dir,
                                              const FairPruneReportInfo& info);

// Saves result.model (refusing to write over the original) and beside it fair_prune.json with the
// source model, the plan, the pairs and the neuron scores, so the cut can be reproduced.
void save_fair_pruned_model(const FairPruneResult& result, const std::filesystem::path& output, OutputFormat format,
                            const std::string& model_name);

}  // namespace optipfair
