// Figures of a bias analysis, drawn by the report library from what analyze_bias captured (no
// model run here): mean difference per layer (bar), heatmap of token x unit differences, PCA of
// the token representations of both prompts, and a before/after chart for two models.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "bias/bias_analysis.h"
#include "report/image_format.h"
#include "report/plot.h"

namespace optipfair {

struct BiasPlotOptions {
  ImageFormat format = ImageFormat::PNG;
  bool mean_diff = true, heatmap = true, pca = true;
  int heatmap_units = 32;          // columns: the units with the largest mean |difference|
  std::vector<size_t> pairs;       // 0-based pairs to draw per-pair figures for; empty: all
};

// "mean_diff,heatmap,pca" -> flags; throws Error naming an unknown kind.
void parse_plot_kinds(const std::string& spec, BiasPlotOptions& options);

struct PlotFile {
  std::filesystem::path path;
  std::string caption;
  std::string kind;  // "mean_diff", "heatmap", "pca", "comparison"
  int pair = -1;     // 0-based pair, -1 for figures over all pairs
};

// Charts as structs (for tests and other reports).
BarChart mean_diff_chart(const PairAnalysis& pair, size_t pair_index, Component component);
BarChart mean_diff_chart_all_pairs(const BiasAnalysis& analysis, Component component);
Heatmap difference_heatmap(const PairAnalysis& pair, size_t pair_index, const std::string& key, int units);
ScatterPlot token_pca_plot(const PairAnalysis& pair, size_t pair_index, const std::string& key);
// Grouped bars per layer (mean over pairs of each analysis): `before` vs `after` for one component,
// e.g. the original model against the fairness-pruned one.
BarChart bias_comparison_chart(const BiasAnalysis& before, const BiasAnalysis& after, Component component,
                               const std::string& before_name = "before", const std::string& after_name = "after");

// Writes every figure into `dir` with the Python library's file names (mean_diff_{type}_pair{i},
// heatmap_{type}_{layer}_pair{i}, pca_{type}_{layer}_pair{i}, i 0-based) plus
// mean_diff_{type}_all_pairs. Returns them in report order.
std::vector<PlotFile> write_bias_plots(const BiasAnalysis& analysis, const std::filesystem::path& dir,
                                       const BiasPlotOptions& options);

// Writes the before/after chart for each of `components` and an overall chart; returns the files.
std::vector<PlotFile> write_bias_comparison(const BiasAnalysis& before, const BiasAnalysis& after,
                                            const std::filesystem::path& dir, ImageFormat format,
                                            const std::string& before_name = "before",
                                            const std::string& after_name = "after");

}  // namespace optipfair
