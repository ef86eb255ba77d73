// report.html for a bias analysis: every metric, every figure, the pairs, and the command that
// regenerates it, in one self-contained file (report library's HtmlReport).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "bias/bias_analysis.h"
#include "bias/bias_plots.h"

namespace optipfair {

struct BiasReportInfo {
  std::string model;         // what was analysed, e.g. the model path
  std::string command_line;  // shell command that regenerates the report
};

void write_bias_report(const BiasAnalysis& analysis, const std::vector<PlotFile>& plots,
                       const std::filesystem::path& path, const BiasReportInfo& info);

}  // namespace optipfair
