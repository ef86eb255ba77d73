#include "report_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace optipfair {

namespace {

const std::string kCaption =
    "Prompt 1: \"A Black man walked at night through the neighborhood. The police officer thought he\"\n"
    "Prompt 2: \"A white man walked at night through the neighborhood. The police officer thought he\"";

}  // namespace

BarChart example_bar_chart() {
  BarChart chart;
  chart.text = {"Mean activation difference per layer: mlp_output", "Layer", "Mean |a1 \xE2\x88\x92 a2|", kCaption};
  BarSeries s{"Llama-3.2-1B", {}, {}};
  for (int l = 0; l < 16; ++l) {
    chart.categories.push_back(std::to_string(l));
    s.values.push_back(0.004 + 0.0021 * l + 0.003 * std::sin(l));
    s.errors.push_back(0.0008 + 0.0001 * l);
  }
  chart.series.push_back(s);
  return chart;
}

BarChart example_comparison_chart() {
  BarChart chart;
  chart.text = {"Bias before and after fairness pruning", "Component", "Mean |a1 \xE2\x88\x92 a2|", kCaption};
  chart.categories = {"input_norm", "attention_output", "gate_proj", "up_proj", "down_proj", "mlp_output"};
  chart.series.push_back({"original", {0.031, 0.042, 0.118, 0.094, 0.0339, 0.0339}, {}});
  chart.series.push_back({"pruned (0.2 %)", {0.029, 0.037, 0.091, 0.080, 0.0264, 0.0264}, {}});
  return chart;
}

LineChart example_line_chart() {
  LineChart chart;
  chart.text = {"Bias progression through the layers", "Layer", "Mean |a1 \xE2\x88\x92 a2|", kCaption};
  const char* names[] = {"attention_output", "gate_proj", "up_proj", "mlp_output"};
  for (int s = 0; s < 4; ++s) chart.series.push_back({names[s], {}});
  for (int l = 0; l < 16; ++l) {
    chart.categories.push_back(std::to_string(l));
    for (int s = 0; s < 4; ++s) chart.series[s].values.push_back(0.01 * (s + 1) * (1 + 0.15 * l) + 0.004 * std::cos(l + s));
  }
  return chart;
}

Heatmap example_heatmap() {
  Heatmap chart;
  chart.text = {"Activation differences, layer 7 gate_proj: tokens \xC3\x97 most divergent units", "Unit",
                "Token", kCaption};
  chart.value_label = "a1 \xE2\x88\x92 a2";
  chart.row_labels = {"<s>", "A", " Black", " man", " walked", " at", " night", " through", " the",
                      " neighborhood", ".", " The", " police", " officer", " thought", " he"};
  chart.rows = chart.row_labels.size();
  chart.cols = 40;
  for (std::size_t c = 0; c < chart.cols; ++c) chart.col_labels.push_back(std::to_string(37 * c % 8192 + 100 * c));
  for (std::size_t r = 0; r < chart.rows; ++r) {
    for (std::size_t c = 0; c < chart.cols; ++c) {
      const double base = r == 2 ? 1.8 : 0.25 * std::exp(-0.2 * std::abs(double(r) - 2.0));
      chart.values.push_back(base * std::sin(0.7 * c + r) * (1.0 - c / 60.0));
    }
  }
  return chart;
}

ScatterPlot example_scatter_plot() {
  ScatterPlot chart;
  chart.text = {"PCA of token representations, layer 7 mlp_output", pca_axis_label(0, 0.423),
                pca_axis_label(1, 0.187), kCaption};
  const char* tokens1[] = {"<s>", "A", " Black", " man", " walked", " at", " night", " through", " the",
                           " neighborhood", ".", " The", " police", " officer", " thought", " he"};
  ScatterSeries s1{"Prompt 1 (Black)", {}}, s2{"Prompt 2 (white)", {}};
  for (int i = 0; i < 16; ++i) {
    const double angle = i * 0.45;
    const double rad = 1.0 + 0.35 * i;
    ScatterPoint p{rad * std::cos(angle), 0.8 * rad * std::sin(angle), tokens1[i], i == 2};
    ScatterPoint q = p;
    if (i == 2) q.label = " white";
    const double shift = i < 2 ? 0.0 : 1.6 / (1.0 + (i - 2));
    q.x += shift;
    q.y -= 0.6 * shift;
    s1.points.push_back(p);
    s2.points.push_back(q);
    chart.arrows.push_back({static_cast<std::size_t>(i), static_cast<std::size_t>(i)});
  }
  chart.series = {s1, s2};
  return chart;
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void expect_valid_image_bytes(const std::string& bytes, ImageFormat format, int width, int height,
                              const std::string& what) {
  ASSERT_GT(bytes.size(), 1000u) << what << " is too small to hold a chart";
  switch (format) {
    case ImageFormat::PNG: {
      ASSERT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << what;
      ASSERT_EQ(bytes.substr(12, 4), "IHDR") << what;
      const auto be32 = [&](std::size_t at) {
        return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
               (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
               (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
               static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
      };
      const unsigned w = be32(16), h = be32(20);
      if (width > 0) {
        EXPECT_EQ(w, static_cast<unsigned>(width)) << what;
      }
      if (height > 0) {
        EXPECT_EQ(h, static_cast<unsigned>(height)) << what;
      }
      EXPECT_GE(w, 100u) << what;
      EXPECT_GE(h, 100u) << what;
      EXPECT_EQ(bytes.substr(bytes.size() - 8, 4), "IEND") << what;
      break;
    }
    case ImageFormat::SVG: {
      EXPECT_EQ(bytes.substr(0, 5), "<?xml") << what;
      const auto root = bytes.find("<svg");
      ASSERT_NE(root, std::string::npos) << what;
      EXPECT_NE(bytes.find("</svg>"), std::string::npos) << what;
      if (width > 0) {
        EXPECT_NE(bytes.find("width=\"" + std::to_string(width) + "px\""), std::string::npos) << what;
      }
      // Every opening tag is closed: a cheap well-formedness check without an XML parser.
      std::size_t opens = 0, closes = 0;
      for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
        if (bytes[i] != '<') continue;
        if (bytes[i + 1] == '/') { ++closes; continue; }
        if (bytes[i + 1] == '?' || bytes[i + 1] == '!') continue;
        const auto end = bytes.find('>', i);
        ASSERT_NE(end, std::string::npos) << what;
        if (bytes[end - 1] != '/') ++opens;
      }
      EXPECT_EQ(opens, closes) << what;
      break;
    }
    case ImageFormat::PDF: {
      EXPECT_EQ(bytes.substr(0, 5), "%PDF-") << what;
      std::string tail = bytes.substr(bytes.size() - 8);
      while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
      EXPECT_EQ(tail.substr(tail.size() - 5), "%%EOF") << what;
      break;
    }
  }
}

void expect_valid_image(const std::filesystem::path& path, ImageFormat format, int width, int height) {
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  expect_valid_image_bytes(file_bytes(path), format, width, height, path.string());
}

}  // namespace optipfair

#include <cairo.h>

namespace optipfair {

namespace {
struct PngReader {
  const std::string* bytes;
  std::size_t at = 0;
};
cairo_status_t png_read(void* closure, unsigned char* data, unsigned int length) {
  auto* r = static_cast<PngReader*>(closure);
  if (r->at + length > r->bytes->size()) return CAIRO_STATUS_READ_ERROR;
  std::copy_n(r->bytes->data() + r->at, length, data);
  r->at += length;
  return CAIRO_STATUS_SUCCESS;
}
}  // namespace

double png_ink_fraction(const std::string& png_bytes) {
  PngReader reader{&png_bytes};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(png_read, &reader);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return -1;
  }
  cairo_surface_flush(s);
  const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  std::size_t ink = 0;
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::size_t>(y) * stride);
    for (int x = 0; x < w; ++x) ink += (row[x] & 0xFFFFFFu) != 0xFFFFFFu;
  }
  cairo_surface_destroy(s);
  return static_cast<double>(ink) / (static_cast<double>(w) * h);
}

}  // namespace optipfair
