// Writes one example of every chart, as a reader would meet it in a bias report. With
// OPTIPFAIR_KEEP_PLOTS=<folder> the files are kept there for looking at.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

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

}  // namespace
}  // namespace optipfair
