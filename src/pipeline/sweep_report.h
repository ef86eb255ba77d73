// What a sweep writes beside its journal: sweep.csv (one row per configuration and fold),
// sweep_summary.json (the points, the Pareto front, the target's answer), the trade-off plot, the
// best configuration's per-category bars, and report.html opening on the trade-off plot.
#pragma once
#include <filesystem>
#include <string>

#include "pipeline/sweep.h"
#include "pipeline/sweep_summary.h"
#include "report/image_format.h"

namespace optipfair {

struct SweepReportInfo {
  std::string model_name;
  std::string command_line;  // shown as "regenerate this report" (empty: not shown)
  std::string settings;      // one paragraph: pairs, folds, grid, measures
  ImageFormat format = ImageFormat::PNG;
};

// sweep.csv's text: a header and one line per row, RFC 4180 quoting.
std::string sweep_csv(const SweepResult& result);

// Writes sweep.csv, sweep_summary.json, tradeoff.<ext>, categories.<ext> and report.html into
// `dir` (made if missing), each atomically; returns the report's path.
std::filesystem::path write_sweep_report(const SweepResult& result, const SweepSummary& summary,
                                         const std::filesystem::path& dir, const SweepReportInfo& info);

}  // namespace optipfair
