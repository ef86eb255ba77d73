// Charts for the bias analysis (and anything else): bar, line, heatmap and PCA scatter.
// Each chart is a plain struct; `<chart>_write` draws it into a PNG, SVG or PDF file and throws
// optipfair::Error naming the path when it cannot; `<chart>_render` returns the file's bytes
// instead (for embedding in the HTML report without a file).
//
// Conventions shared by all charts:
// - width/height are pixels (PDF: the same size at 96 dpi); 0 means the chart's default.
// - All text may be any UTF-8; invalid bytes are shown as U+FFFD, never a failure.
// - Token labels (heatmap rows, scatter points) show whitespace visibly (token_label_visible).
// - A chart with nothing to plot (no categories, no rows, no points) is still drawn, with its
//   title, caption and a "No data to plot" note, so a report never has a missing figure.
//   Inconsistent input (a series whose length differs from the categories) throws Error.
// - NaN and ±Inf never break a chart: bars and points are left out and marked "n/a",
//   heatmap cells are hatched grey, lines are broken.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "report/image_format.h"

namespace optipfair {

struct ChartText {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::string caption;  // under the plot, wrapped; '\n' starts a new line
};

// ---- bar chart: one value per category, one or more series as grouped bars ----

struct BarSeries {
  std::string name;            // shown in the legend when there are two or more series
  std::vector<double> values;  // one per category
  std::vector<double> errors;  // empty, or one half-width error bar per category
};

struct BarChart {
  ChartText text;
  std::vector<std::string> categories;  // e.g. "0", "1", ... for layers
  std::vector<BarSeries> series;
  int width = 0;   // default 1000
  int height = 0;  // default 600
};

void bar_chart_write(const BarChart& chart, const std::filesystem::path& path, ImageFormat format);
std::string bar_chart_render(const BarChart& chart, ImageFormat format);

// ---- line chart: values along ordered categories (layer progression) ----

struct LineSeries {
  std::string name;
  std::vector<double> values;  // one per category; NaN breaks the line
};

struct LineChart {
  ChartText text;
  std::vector<std::string> categories;
  std::vector<LineSeries> series;
  bool include_zero = true;  // start the y axis at zero when all values are positive
  int width = 0;             // default 1000
  int height = 0;            // default 600
};

void line_chart_write(const LineChart& chart, const std::filesystem::path& path, ImageFormat format);
std::string line_chart_render(const LineChart& chart, ImageFormat format);

// ---- heatmap: a rows x cols matrix (tokens x units) with a colour bar ----

enum class ColorScale {
  Auto,        // Diverging when the finite values have both signs, else Sequential
  Sequential,  // viridis from the minimum to the maximum
  Diverging,   // blue - white - red, symmetric around zero
};

struct Heatmap {
  ChartText text;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> values;            // rows * cols, row-major
  std::vector<std::string> row_labels;   // empty (indices shown) or one per row: token strings
  std::vector<std::string> col_labels;   // empty (indices shown) or one per column: unit indices
  std::string value_label;               // title of the colour bar, e.g. "|a1 − a2|"
  ColorScale scale = ColorScale::Auto;
  int width = 0;   // default 1000, wider when there are many columns
  int height = 0;  // default 600, taller when there are many rows
};

void heatmap_write(const Heatmap& chart, const std::filesystem::path& path, ImageFormat format);
std::string heatmap_render(const Heatmap& chart, ImageFormat format);

// ---- scatter: labelled point sets, arrows between corresponding points (PCA of tokens) ----

struct ScatterPoint {
  double x = 0;
  double y = 0;
  std::string label;         // token text; empty for no label
  bool highlighted = false;  // drawn larger, outlined, with a bold label (the differing tokens)
};

struct ScatterSeries {
  std::string name;  // legend entry, e.g. "Prompt 1"
  std::vector<ScatterPoint> points;
};

// An arrow from series[0].points[from] to series[1].points[to].
struct ScatterArrow {
  std::size_t from = 0;
  std::size_t to = 0;
};

struct ScatterPlot {
  ChartText text;  // x_label/y_label: use pca_axis_label for "PC1 (42.3%)"
  std::vector<ScatterSeries> series;
  std::vector<ScatterArrow> arrows;
  std::string highlight_meaning = "differing tokens";  // what an outlined point is, noted in the corner
  int width = 0;   // default 1000
  int height = 0;  // default 700
};

void scatter_plot_write(const ScatterPlot& chart, const std::filesystem::path& path, ImageFormat format);
std::string scatter_plot_render(const ScatterPlot& chart, ImageFormat format);

// "PC1 (42.3%)" for component 0 and ratio 0.423; "PC1" when the ratio is not finite.
std::string pca_axis_label(int component_index, double explained_variance_ratio);

}  // namespace optipfair
