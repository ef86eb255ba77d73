// Example charts shaped like the bias command's, and checks that a file is a valid image.
#pragma once
#include <filesystem>
#include <string>

#include "report/plot.h"

namespace optipfair {

BarChart example_bar_chart();
BarChart example_comparison_chart();
LineChart example_line_chart();
Heatmap example_heatmap();
ScatterPlot example_scatter_plot();

// The whole file as bytes ("" when it cannot be read).
std::string file_bytes(const std::filesystem::path& path);

// GoogleTest expectations: PNG signature and IHDR size, SVG root element, PDF header and
// trailer, and a size no empty drawing has.
void expect_valid_image(const std::filesystem::path& path, ImageFormat format, int width = 0, int height = 0);
void expect_valid_image_bytes(const std::string& bytes, ImageFormat format, int width = 0, int height = 0,
                              const std::string& what = "image");

}  // namespace optipfair

namespace optipfair {
// Share of PNG pixels that are not white: proof that something was drawn (-1 if undecodable).
double png_ink_fraction(const std::string& png_bytes);
}  // namespace optipfair
