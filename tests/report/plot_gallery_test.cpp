// Writes one example of every chart, as a reader would meet it in a bias report. With
// OPTIPFAIR_KEEP_PLOTS=<folder> the files are kept there for looking at.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>

#include "report/plot.h"
#include "report_test_support.h"
#include "test_support.h"

namespace optipfair {
namespace {

std::filesystem::path gallery_dir(const test::ScratchDir& scratch) {
  const char* keep = std::getenv("OPTIPFAIR_KEEP_PLOTS");
  if (keep && *keep) {
    std::filesystem::create_directories(keep);
    return keep;
  }
  return scratch.path();
}

TEST(PlotGallery, EveryChartInEveryFormat) {
  test::ScratchDir scratch;
  const auto dir = gallery_dir(scratch);
  for (ImageFormat format : {ImageFormat::PNG, ImageFormat::SVG, ImageFormat::PDF}) {
    const std::string ext(image_format_extension(format));
    bar_chart_write(example_bar_chart(), dir / ("bar" + ext), format);
    bar_chart_write(example_comparison_chart(), dir / ("comparison" + ext), format);
    line_chart_write(example_line_chart(), dir / ("line" + ext), format);
    heatmap_write(example_heatmap(), dir / ("heatmap" + ext), format);
    scatter_plot_write(example_scatter_plot(), dir / ("pca" + ext), format);
    for (const char* name : {"bar", "comparison", "line", "heatmap", "pca"}) {
      expect_valid_image(dir / (name + ext), format);
    }
  }
}

// Width and height from a PNG's IHDR chunk.
std::pair<unsigned, unsigned> png_size(const std::string& png) {
  auto be32 = [&](std::size_t at) {
    unsigned v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png.at(at + i));
    return v;
  };
  return {be32(16), be32(20)};
}

// A written chart: a valid PNG of the expected size (0: not fixed), with something drawn on it
// and not a canvas filled with one colour.
void expect_png_chart(const std::filesystem::path& path, int width, int height) {
  SCOPED_TRACE(path.filename().string());
  expect_valid_image(path, ImageFormat::PNG, width, height);
  const double ink = png_ink_fraction(file_bytes(path));
  EXPECT_GT(ink, 0.005);
  EXPECT_LT(ink, 0.9);
}

// The hard cases, as PNG (kept with OPTIPFAIR_KEEP_PLOTS for looking at): many tokens and units,
// long text, NaN, infinity and negatives, crowded labels, nothing to plot. Each must still come
// out as a whole chart of the expected size.
TEST(PlotGallery, HardCases) {
  test::ScratchDir scratch;
  const auto dir = gallery_dir(scratch);
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();

  Heatmap big;
  big.text = {"64 tokens x 100 units", "Unit", "Token", "A caption that is long enough to need wrapping: " + std::string(300, 'x')};
  big.rows = 64;
  big.cols = 100;
  for (std::size_t r = 0; r < big.rows; ++r) big.row_labels.push_back(r % 5 ? " token" + std::to_string(r) : "\n");
  for (std::size_t c = 0; c < big.cols; ++c) big.col_labels.push_back(std::to_string(c * 53));
  for (std::size_t i = 0; i < big.rows * big.cols; ++i) big.values.push_back(i % 97 == 0 ? nan : std::abs(std::sin(0.37 * i)));
  heatmap_write(big, dir / "hard_heatmap_64x100.png", ImageFormat::PNG);
  expect_png_chart(dir / "hard_heatmap_64x100.png", 0, 0);
  {
    // The canvas grows so that 64 token rows keep legible labels (~14 px each).
    const auto [w, h] = png_size(file_bytes(dir / "hard_heatmap_64x100.png"));
    EXPECT_GE(w, 1000u);
    EXPECT_GE(h, 64u * 14u);
  }

  Heatmap small;
  small.text = {"3 x 4 with values", "Unit", "Token", ""};
  small.rows = 3;
  small.cols = 4;
  small.row_labels = {" he", " she", "\xE2\x80"};
  small.values = {0.1, -0.4, nan, 0.9, -1.2, 0.0, 0.3, 0.05, 0.7, -0.7, 0.2, -0.1};
  heatmap_write(small, dir / "hard_heatmap_small.png", ImageFormat::PNG);
  expect_png_chart(dir / "hard_heatmap_small.png", 1000, 600);
  {
    // A NaN cell is drawn as "no value" (hatched), not as the colour of some number.
    Heatmap filled = small;
    filled.values[2] = 0.0;
    EXPECT_NE(heatmap_render(filled, ImageFormat::PNG), file_bytes(dir / "hard_heatmap_small.png"));
  }

  BarChart bars;
  bars.text = {"Negative, NaN and Inf values", "Layer", "Signed difference", "caption"};
  bars.categories = {"0", "1", "2", "3", "4", "5"};
  bars.series.push_back({"before", {-0.5, 0.3, nan, std::numeric_limits<double>::infinity(), -0.1, 0.2}, {0.1, 0.1, 0.1, 0.1, 0.1, 0.1}});
  bars.series.push_back({"after", {-0.2, 0.1, 0.2, nan, 0.3, -0.1}, {}});
  bar_chart_write(bars, dir / "hard_bars_nan.png", ImageFormat::PNG);
  expect_png_chart(dir / "hard_bars_nan.png", 1000, 600);

  BarChart longs;
  longs.text = {"A very long title that goes on and on to see whether it wraps onto a second line of the figure properly",
                "x", "y", ""};
  for (int i = 0; i < 40; ++i) {
    longs.categories.push_back("attention_output_layer_" + std::to_string(i));
    longs.series.resize(1);
    longs.series[0].values.push_back(i * 0.001);
  }
  bar_chart_write(longs, dir / "hard_bars_long_labels.png", ImageFormat::PNG);
  expect_png_chart(dir / "hard_bars_long_labels.png", 1000, 600);

  ScatterPlot crowded;
  crowded.text = {"Crowded PCA", pca_axis_label(0, 0.61), pca_axis_label(1, 0.12), "labels that would overlap are hidden"};
  crowded.series = {{"Prompt 1", {}}, {"Prompt 2", {}}};
  for (int i = 0; i < 60; ++i) {
    crowded.series[0].points.push_back({std::cos(i * 0.3) * i, std::sin(i * 0.3) * i, " tok" + std::to_string(i), i == 7});
    crowded.series[1].points.push_back({std::cos(i * 0.3) * i + 2, std::sin(i * 0.3) * i - 1, " tok" + std::to_string(i), i == 7});
    crowded.arrows.push_back({static_cast<std::size_t>(i), static_cast<std::size_t>(i)});
  }
  scatter_plot_write(crowded, dir / "hard_scatter_crowded.png", ImageFormat::PNG);
  expect_png_chart(dir / "hard_scatter_crowded.png", 1000, 700);

  BarChart empty;
  empty.text = {"Nothing to show", "x", "y", "caption"};
  bar_chart_write(empty, dir / "hard_empty.png", ImageFormat::PNG);
  expect_png_chart(dir / "hard_empty.png", 1000, 600);  // title, caption and "No data to plot"
}

}  // namespace
}  // namespace optipfair
