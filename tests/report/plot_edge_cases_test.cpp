// Charts must survive whatever an analysis hands them: nothing, one value, NaN and Inf,
// negative values, huge labels, broken UTF-8, one cell, hundreds of cells.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "report/plot.h"
#include "report_test_support.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const ImageFormat kFormats[] = {ImageFormat::PNG, ImageFormat::SVG, ImageFormat::PDF};

std::string long_text(std::size_t words) {
  std::string s;
  for (std::size_t i = 0; i < words; ++i) {
    if (i) s += ' ';
    s += "neighborhood";
    s += std::to_string(i);
  }
  return s;
}

// Renders in every format and checks each result; PNGs must also show ink.
template <typename Chart, typename Render>
void expect_renders(const Chart& chart, Render render, const std::string& what, int width = 0, int height = 0) {
  for (ImageFormat f : kFormats) {
    SCOPED_TRACE(what + " as " + std::string(image_format_name(f)));
    std::string bytes;
    ASSERT_NO_THROW(bytes = render(chart, f));
    expect_valid_image_bytes(bytes, f, width, height, what);
    if (f == ImageFormat::PNG) {
      EXPECT_GT(png_ink_fraction(bytes), 0.005) << what;
    }
  }
}

TEST(BarChartEdges, NoCategoriesDrawsANoDataChart) {
  BarChart chart;
  chart.text.title = "nothing";
  expect_renders(chart, bar_chart_render, "empty bar chart", 1000, 600);
  chart.categories = {"a", "b"};
  expect_renders(chart, bar_chart_render, "bar chart without series");
}

TEST(BarChartEdges, SeriesLengthMismatchIsAnError) {
  BarChart chart;
  chart.categories = {"0", "1", "2"};
  chart.series.push_back({"mean", {1.0, 2.0}, {}});
  EXPECT_THROW(bar_chart_render(chart, ImageFormat::PNG), Error);
  chart.series[0].values.push_back(3.0);
  chart.series[0].errors = {0.1};
  EXPECT_THROW(bar_chart_render(chart, ImageFormat::PNG), Error);
}

TEST(BarChartEdges, SingleNegativeNonFiniteAndZeroValues) {
  BarChart one;
  one.categories = {"only"};
  one.series.push_back({"s", {0.0339}, {0.002}});
  expect_renders(one, bar_chart_render, "single bar");

  BarChart mixed;
  mixed.categories = {"0", "1", "2", "3", "4", "5"};
  mixed.series.push_back({"before", {-0.5, 0.3, kNaN, kInf, -kInf, 1e-9}, {0.1, kNaN, 0.1, 0.1, 0.1, 0}});
  mixed.series.push_back({"after", {-0.2, 0.1, 0.2, kNaN, 0.3, -0.1}, {}});
  expect_renders(mixed, bar_chart_render, "negative, NaN and Inf bars");

  BarChart all_nan;
  all_nan.categories = {"0", "1"};
  all_nan.series.push_back({"s", {kNaN, kNaN}, {}});
  expect_renders(all_nan, bar_chart_render, "all-NaN bars");

  BarChart zeros;
  zeros.categories = {"0", "1"};
  zeros.series.push_back({"s", {0, 0}, {}});
  expect_renders(zeros, bar_chart_render, "all-zero bars");

  BarChart tiny;
  tiny.categories = {"0", "1"};
  tiny.series.push_back({"s", {3e-8, 7e-8}, {}});
  expect_renders(tiny, bar_chart_render, "tiny values");
}

TEST(BarChartEdges, ManyCategoriesAndVeryLongText) {
  BarChart chart;
  chart.text = {long_text(40), long_text(30), long_text(30), long_text(400)};
  for (int i = 0; i < 128; ++i) {
    chart.categories.push_back("category_with_a_very_long_name_" + std::to_string(i) + long_text(3));
  }
  chart.series.push_back({long_text(20), std::vector<double>(128, 1.0), {}});
  chart.series.push_back({long_text(20), std::vector<double>(128, 2.0), {}});
  expect_renders(chart, bar_chart_render, "long labels");
}

TEST(BarChartEdges, BrokenUtf8InEveryLabel) {
  BarChart chart;
  chart.text = {"title \xFF\xFE", "x \xC3", "y \xE2\x88", "caption \x80\x01 end"};
  chart.categories = {"\xF0\x9F", "ok"};
  chart.series.push_back({"\xC0\xAF", {1, 2}, {}});
  chart.series.push_back({"s", {2, 1}, {}});
  expect_renders(chart, bar_chart_render, "broken UTF-8");
}

TEST(LineChartEdges, EmptyNaNGapsAndSinglePoint) {
  LineChart empty;
  expect_renders(empty, line_chart_render, "empty line chart");
  LineChart gaps;
  gaps.categories = {"0", "1", "2", "3", "4"};
  gaps.series.push_back({"a", {1, kNaN, 3, kInf, 2}});
  gaps.series.push_back({"b", {-1, -2, kNaN, kNaN, -3}});
  expect_renders(gaps, line_chart_render, "line gaps");
  LineChart single;
  single.categories = {"7"};
  single.series.push_back({"a", {0.5}});
  expect_renders(single, line_chart_render, "single point line");
  LineChart bad = single;
  bad.series[0].values.push_back(1);
  EXPECT_THROW(line_chart_render(bad, ImageFormat::SVG), Error);
}

TEST(HeatmapEdges, OneCellEmptyAndMismatch) {
  Heatmap one;
  one.rows = one.cols = 1;
  one.values = {0.7};
  one.row_labels = {" he"};
  expect_renders(one, heatmap_render, "1x1 heatmap");
  Heatmap empty;
  expect_renders(empty, heatmap_render, "empty heatmap");
  Heatmap bad;
  bad.rows = 2;
  bad.cols = 2;
  bad.values = {1, 2, 3};
  EXPECT_THROW(heatmap_render(bad, ImageFormat::PNG), Error);
  bad.values.push_back(4);
  bad.row_labels = {"only one"};
  EXPECT_THROW(heatmap_render(bad, ImageFormat::PNG), Error);
  bad.row_labels.clear();
  bad.col_labels = {"a", "b", "c"};
  EXPECT_THROW(heatmap_render(bad, ImageFormat::PNG), Error);
}

TEST(HeatmapEdges, NaNInfConstantAndSigns) {
  Heatmap h;
  h.rows = 3;
  h.cols = 4;
  h.values = {kNaN, 1, 2, 3, kInf, -kInf, 0.5, 0.25, 1, 1, 1, kNaN};
  for (ColorScale scale : {ColorScale::Auto, ColorScale::Sequential, ColorScale::Diverging}) {
    h.scale = scale;
    expect_renders(h, heatmap_render, "heatmap with NaN and Inf");
  }
  Heatmap constant = h;
  constant.values.assign(12, 4.0);
  expect_renders(constant, heatmap_render, "constant heatmap");
  Heatmap all_nan = h;
  all_nan.values.assign(12, kNaN);
  expect_renders(all_nan, heatmap_render, "all-NaN heatmap");
}

TEST(HeatmapEdges, SixtyFourTokensByHundredUnitsGrowsTheCanvas) {
  Heatmap h;
  h.rows = 64;
  h.cols = 100;
  for (std::size_t r = 0; r < h.rows; ++r) h.row_labels.push_back(r % 3 ? " token" + std::to_string(r) : "\n\t\xE2\x80");
  for (std::size_t i = 0; i < h.rows * h.cols; ++i) h.values.push_back(std::sin(0.37 * static_cast<double>(i)));
  const std::string png = heatmap_render(h, ImageFormat::PNG);
  expect_valid_image_bytes(png, ImageFormat::PNG, 0, 0, "64x100 heatmap");
  // Rows need at least ~14 px each to keep their token labels legible.
  const unsigned height = (static_cast<unsigned char>(png[22]) << 8) | static_cast<unsigned char>(png[23]);
  EXPECT_GE(height, 64u * 14u);
  expect_renders(h, heatmap_render, "64x100 heatmap");
}

TEST(ScatterEdges, EmptySingleNaNAndBadArrows) {
  ScatterPlot empty;
  expect_renders(empty, scatter_plot_render, "empty scatter");
  ScatterPlot single;
  single.series.push_back({"p1", {{1, 1, "only", true}}});
  expect_renders(single, scatter_plot_render, "single point");
  ScatterPlot nan;
  nan.series.push_back({"p1", {{kNaN, 1, "a"}, {1, 2, "b"}, {2, kInf, "c"}}});
  nan.series.push_back({"p2", {{1, 1, "a"}, {kNaN, kNaN, "b"}, {-3, 2, "c", true}}});
  nan.arrows = {{0, 0}, {1, 1}, {2, 2}};
  expect_renders(nan, scatter_plot_render, "NaN points");
  ScatterPlot coincident;
  coincident.series.push_back({"p1", {{0, 0, " same"}}});
  coincident.series.push_back({"p2", {{0, 0, " same"}}});
  coincident.arrows = {{0, 0}};
  expect_renders(coincident, scatter_plot_render, "coincident points");
  ScatterPlot bad = coincident;
  bad.arrows = {{0, 1}};
  EXPECT_THROW(scatter_plot_render(bad, ImageFormat::PNG), Error);
  bad.series.pop_back();
  bad.arrows = {{0, 0}};
  EXPECT_THROW(scatter_plot_render(bad, ImageFormat::PNG), Error);
}

TEST(ScatterEdges, ManyOverlappingLabels) {
  ScatterPlot chart;
  chart.series.resize(2);
  for (int i = 0; i < 200; ++i) {
    chart.series[0].points.push_back({std::cos(i) * 0.01, std::sin(i) * 0.01, long_text(2), i % 17 == 0});
    chart.series[1].points.push_back({std::cos(i) * 0.01 + 0.001, std::sin(i) * 0.01, " tok", false});
    chart.arrows.push_back({static_cast<std::size_t>(i), static_cast<std::size_t>(i)});
  }
  expect_renders(chart, scatter_plot_render, "crowded scatter");
}

TEST(PcaAxisLabel, ShowsExplainedVariance) {
  EXPECT_EQ(pca_axis_label(0, 0.423), "PC1 (42.3%)");
  EXPECT_EQ(pca_axis_label(1, 0.0), "PC2 (0.0%)");
  EXPECT_EQ(pca_axis_label(2, kNaN), "PC3");
}

TEST(PlotWrite, UnwritablePathIsAnErrorNamingIt) {
  test::ScratchDir scratch;
  const auto path = scratch / "missing_folder" / "chart.png";
  try {
    bar_chart_write(example_bar_chart(), path, ImageFormat::PNG);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(heatmap_write(example_heatmap(), scratch.path(), ImageFormat::SVG), Error);  // a folder
  EXPECT_THROW(scatter_plot_write(example_scatter_plot(), path, ImageFormat::PDF), Error);
  EXPECT_THROW(line_chart_write(example_line_chart(), path, ImageFormat::SVG), Error);
}

TEST(PlotWrite, WrittenFileEqualsRenderedBytes) {
  test::ScratchDir scratch;
  // PNG only: cairo numbers SVG surfaces and stamps PDFs with a date, so those differ per run.
  const auto path = scratch / "bar.png";
  bar_chart_write(example_bar_chart(), path, ImageFormat::PNG);
  EXPECT_TRUE(file_bytes(path) == bar_chart_render(example_bar_chart(), ImageFormat::PNG));
}

TEST(PlotWrite, SizeIsHonouredAndChecked) {
  BarChart chart = example_bar_chart();
  chart.width = 640;
  chart.height = 400;
  expect_valid_image_bytes(bar_chart_render(chart, ImageFormat::PNG), ImageFormat::PNG, 640, 400);
  chart.width = 10;
  EXPECT_THROW(bar_chart_render(chart, ImageFormat::PNG), Error);
  chart.width = -5;
  EXPECT_THROW(bar_chart_render(chart, ImageFormat::PNG), Error);
}

}  // namespace
}  // namespace optipfair
