#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>

#include "report/label_text.h"
#include "report/plot.h"
#include "report/plot_canvas.h"
#include "util/error.h"

namespace optipfair {

namespace {

using detail::Color;

// viridis, ten evenly spaced stops: perceptually uniform and readable with any colour vision
// and in greyscale.
constexpr std::array<Color, 10> kViridis = {{
    {0x44 / 255.0, 0x01 / 255.0, 0x54 / 255.0}, {0x48 / 255.0, 0x28 / 255.0, 0x78 / 255.0},
    {0x3E / 255.0, 0x4A / 255.0, 0x89 / 255.0}, {0x31 / 255.0, 0x68 / 255.0, 0x8E / 255.0},
    {0x26 / 255.0, 0x82 / 255.0, 0x8E / 255.0}, {0x1F / 255.0, 0x9E / 255.0, 0x89 / 255.0},
    {0x35 / 255.0, 0xB7 / 255.0, 0x79 / 255.0}, {0x6D / 255.0, 0xCD / 255.0, 0x59 / 255.0},
    {0xB4 / 255.0, 0xDE / 255.0, 0x2C / 255.0}, {0xFD / 255.0, 0xE7 / 255.0, 0x25 / 255.0},
}};

// ColorBrewer RdBu (11 classes), negative = blue, positive = red: safe for red-green deficiency.
constexpr std::array<Color, 11> kBlueWhiteRed = {{
    {0x05 / 255.0, 0x30 / 255.0, 0x61 / 255.0}, {0x21 / 255.0, 0x66 / 255.0, 0xAC / 255.0},
    {0x43 / 255.0, 0x93 / 255.0, 0xC3 / 255.0}, {0x92 / 255.0, 0xC5 / 255.0, 0xDE / 255.0},
    {0xD1 / 255.0, 0xE5 / 255.0, 0xF0 / 255.0}, {0xF7 / 255.0, 0xF7 / 255.0, 0xF7 / 255.0},
    {0xFD / 255.0, 0xDB / 255.0, 0xC7 / 255.0}, {0xF4 / 255.0, 0xA5 / 255.0, 0x82 / 255.0},
    {0xD6 / 255.0, 0x60 / 255.0, 0x4D / 255.0}, {0xB2 / 255.0, 0x18 / 255.0, 0x2B / 255.0},
    {0x67 / 255.0, 0x00 / 255.0, 0x1F / 255.0},
}};

constexpr Color kMissingColor{0.82, 0.82, 0.82};

struct ColorMap {
  const Color* stops;
  std::size_t count;
  double lo, hi;

  // t in [0, 1] along the scale.
  Color at_fraction(double t) const {
    t = std::clamp(t, 0.0, 1.0) * static_cast<double>(count - 1);
    const std::size_t i = std::min(static_cast<std::size_t>(t), count - 2);
    const double f = t - static_cast<double>(i);
    const Color& a = stops[i];
    const Color& b = stops[i + 1];
    return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
  }
  Color at(double value) const {
    if (std::isinf(value)) return at_fraction(value > 0 ? 1.0 : 0.0);
    return at_fraction((value - lo) / (hi - lo));
  }
};

void heatmap_check(const Heatmap& chart) {
  if (chart.values.size() != chart.rows * chart.cols) {
    throw Error("heatmap has " + std::to_string(chart.values.size()) + " values for " + std::to_string(chart.rows) +
                " x " + std::to_string(chart.cols) + " cells");
  }
  if (!chart.row_labels.empty() && chart.row_labels.size() != chart.rows) {
    throw Error("heatmap has " + std::to_string(chart.row_labels.size()) + " row labels for " +
                std::to_string(chart.rows) + " rows");
  }
  if (!chart.col_labels.empty() && chart.col_labels.size() != chart.cols) {
    throw Error("heatmap has " + std::to_string(chart.col_labels.size()) + " column labels for " +
                std::to_string(chart.cols) + " columns");
  }
}

void hatch_draw(cairo_t* cr, double x, double y, double w, double h) {
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_set_source_rgb(cr, kMissingColor.r, kMissingColor.g, kMissingColor.b);
  cairo_fill_preserve(cr);
  cairo_clip(cr);
  cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
  cairo_set_line_width(cr, 1);
  const double spacing = 5;
  for (double d = -h; d < w; d += spacing) {
    cairo_move_to(cr, x + d, y + h);
    cairo_line_to(cr, x + d + h, y);
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

}  // namespace

std::string heatmap_render(const Heatmap& chart, ImageFormat format) {
  using namespace detail;
  heatmap_check(chart);
  // Many rows or columns grow the default canvas so that every cell stays legible.
  const double est_caption_lines = 1 + static_cast<double>(chart.text.caption.size()) / 130.0;
  const int auto_width = static_cast<int>(std::max(1000.0, 360.0 + 10.0 * static_cast<double>(chart.cols)));
  const int auto_height = static_cast<int>(
      std::max(600.0, 250.0 + 17.0 * est_caption_lines + 15.0 * static_cast<double>(chart.rows)));
  const int width = chart_dimension(chart.width, std::min(auto_width, 4000), "width");
  const int height = chart_dimension(chart.height, std::min(auto_height, 4000), "height");
  PlotCanvas canvas(format, width, height, chart.text.title);
  cairo_t* cr = canvas.cr();
  const Rect area = canvas.draw_frame(chart.text.title, chart.text.caption);
  if (chart.rows == 0 || chart.cols == 0) {
    canvas.draw_no_data(area, "the matrix has no " + std::string(chart.rows == 0 ? "rows" : "columns"));
    return canvas.finish();
  }

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool any_missing = false;
  for (double v : chart.values) {
    if (std::isnan(v)) any_missing = true;
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) { lo = 0; hi = 1; }  // no finite value at all
  ColorScale scale = chart.scale;
  if (scale == ColorScale::Auto) scale = (lo < 0 && hi > 0) ? ColorScale::Diverging : ColorScale::Sequential;
  ColorMap map{};
  if (scale == ColorScale::Diverging) {
    const double m = std::max({std::abs(lo), std::abs(hi), 1e-300});
    map = ColorMap{kBlueWhiteRed.data(), kBlueWhiteRed.size(), -m, m};
  } else {
    if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-12) {
      const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.5;
      lo -= pad;
      hi += pad;
    }
    map = ColorMap{kViridis.data(), kViridis.size(), lo, hi};
  }

  // Right block: colour bar, its tick labels and its title.
  const AxisTicks bar_ticks = axis_ticks(map.lo, map.hi, 7, false);
  canvas.set_font(12);
  double bar_label_w = 0;
  for (double v : bar_ticks.values) bar_label_w = std::max(bar_label_w, canvas.text_width(format_tick(v, bar_ticks.step)));
  const double bar_w = 18;
  const double right_block = 24 + bar_w + 6 + bar_label_w + (chart.value_label.empty() ? 0 : 28);

  // Row labels.
  std::vector<std::string> row_labels(chart.rows), col_labels(chart.cols);
  for (std::size_t r = 0; r < chart.rows; ++r) {
    row_labels[r] = chart.row_labels.empty() ? std::to_string(r) : token_label_visible(chart.row_labels[r]);
  }
  for (std::size_t c = 0; c < chart.cols; ++c) {
    col_labels[c] = chart.col_labels.empty() ? std::to_string(c) : utf8_sanitize(chart.col_labels[c]);
  }
  const double y_title_w = chart.text.y_label.empty() ? 0 : 26;
  const double x_title_h = chart.text.x_label.empty() ? 0 : 26;

  // First pass on sizes: the column label depth depends on the cell width, the row label font
  // on the cell height.
  const double max_row_label_w = std::min(240.0, area.w * 0.3);
  Rect plot;
  plot.y = area.y + 4;
  double row_font = 12;
  canvas.set_font(row_font);
  double row_label_w = 0;
  for (auto& label : row_labels) {
    label = canvas.truncate(label, max_row_label_w);
    row_label_w = std::max(row_label_w, canvas.text_width(label));
  }
  plot.x = area.x + y_title_w + row_label_w + 8;
  plot.w = std::max(10.0, area.right() - right_block - plot.x);
  const double cell_w = plot.w / static_cast<double>(chart.cols);
  const double col_font = std::clamp(cell_w * 0.85, 7.0, 11.0);
  canvas.set_font(col_font);
  double col_label_w = 0;
  for (const auto& label : col_labels) col_label_w = std::max(col_label_w, canvas.text_width(label));
  const bool col_rotate = col_label_w > cell_w * 0.9;
  const double col_label_depth = std::min(col_rotate ? col_label_w : col_font * 1.3, 80.0) + 8;
  const std::size_t col_every =
      col_rotate ? std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(col_font * 1.2 / cell_w))) : 1;
  plot.h = std::max(10.0, area.bottom() - plot.y - col_label_depth - x_title_h);
  const double cell_h = plot.h / static_cast<double>(chart.rows);
  row_font = std::clamp(cell_h * 0.8, 7.0, 12.0);
  const std::size_t row_every =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(row_font * 1.15 / cell_h)));

  // Cells. Snapped to whole pixels so neighbouring cells leave no hairline gaps.
  for (std::size_t r = 0; r < chart.rows; ++r) {
    const double y0 = std::round(plot.y + cell_h * static_cast<double>(r));
    const double y1 = std::round(plot.y + cell_h * static_cast<double>(r + 1));
    for (std::size_t c = 0; c < chart.cols; ++c) {
      const double x0 = std::round(plot.x + cell_w * static_cast<double>(c));
      const double x1 = std::round(plot.x + cell_w * static_cast<double>(c + 1));
      const double v = chart.values[r * chart.cols + c];
      if (std::isnan(v)) {
        hatch_draw(cr, x0, y0, x1 - x0, y1 - y0);
        continue;
      }
      canvas.set_color(map.at(v));
      cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
      cairo_fill(cr);
    }
  }
  // Large cells get thin separators and their value printed inside.
  if (cell_w >= 14 && cell_h >= 14) {
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 1);
    for (std::size_t r = 1; r < chart.rows; ++r) {
      const double y = std::round(plot.y + cell_h * static_cast<double>(r)) + 0.5;
      cairo_move_to(cr, plot.x, y);
      cairo_line_to(cr, plot.right(), y);
    }
    for (std::size_t c = 1; c < chart.cols; ++c) {
      const double x = std::round(plot.x + cell_w * static_cast<double>(c)) + 0.5;
      cairo_move_to(cr, x, plot.y);
      cairo_line_to(cr, x, plot.bottom());
    }
    cairo_stroke(cr);
  }
  if (cell_w >= 48 && cell_h >= 20) {
    canvas.set_font(std::min(12.0, cell_h * 0.5));
    for (std::size_t r = 0; r < chart.rows; ++r) {
      for (std::size_t c = 0; c < chart.cols; ++c) {
        const double v = chart.values[r * chart.cols + c];
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3g", v);
        const Color bg = std::isnan(v) ? kMissingColor : map.at(v);
        const double luminance = 0.2126 * bg.r + 0.7152 * bg.g + 0.0722 * bg.b;
        if (luminance > 0.5) cairo_set_source_rgb(cr, 0, 0, 0);
        else cairo_set_source_rgb(cr, 1, 1, 1);
        canvas.text(plot.x + cell_w * (static_cast<double>(c) + 0.5), plot.y + cell_h * (static_cast<double>(r) + 0.5),
                    std::isnan(v) ? "NaN" : buf, HAlign::Center, VAlign::Middle);
      }
    }
  }
  canvas.set_color(kAxisColor);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, std::round(plot.x) - 0.5, std::round(plot.y) - 0.5, std::round(plot.right()) - std::round(plot.x) + 1,
                  std::round(plot.bottom()) - std::round(plot.y) + 1);
  cairo_stroke(cr);

  // Row and column labels.
  canvas.set_font(row_font);
  canvas.set_color(kTextColor);
  for (std::size_t r = 0; r < chart.rows; r += row_every) {
    canvas.text(plot.x - 6, plot.y + cell_h * (static_cast<double>(r) + 0.5), row_labels[r], HAlign::Right,
                VAlign::Middle);
  }
  canvas.set_font(col_font);
  for (std::size_t c = 0; c < chart.cols; c += col_every) {
    const double x = plot.x + cell_w * (static_cast<double>(c) + 0.5);
    if (col_rotate) {
      canvas.text(x, plot.bottom() + 5, canvas.truncate(col_labels[c], 80), HAlign::Right, VAlign::Middle,
                  -std::numbers::pi / 2);
    } else {
      canvas.text(x, plot.bottom() + 5, col_labels[c], HAlign::Center, VAlign::Top);
    }
  }
  canvas.set_font(14, true);
  if (!chart.text.x_label.empty()) {
    canvas.text(plot.x + plot.w / 2, area.bottom(), canvas.truncate(chart.text.x_label, plot.w), HAlign::Center,
                VAlign::Bottom);
  }
  if (!chart.text.y_label.empty()) {
    canvas.text(area.x, plot.y + plot.h / 2, canvas.truncate(chart.text.y_label, plot.h), HAlign::Center, VAlign::Top,
                -std::numbers::pi / 2);
  }

  // Colour bar, as tall as the matrix but no taller than 420 px.
  const double bar_x = plot.right() + 24;
  const double bar_h = std::min(plot.h, 420.0);
  const double bar_y = plot.y;
  cairo_pattern_t* gradient = cairo_pattern_create_linear(0, bar_y + bar_h, 0, bar_y);
  for (std::size_t i = 0; i < map.count; ++i) {
    const Color& c = map.stops[i];
    cairo_pattern_add_color_stop_rgb(gradient, static_cast<double>(i) / static_cast<double>(map.count - 1), c.r, c.g, c.b);
  }
  cairo_rectangle(cr, bar_x, bar_y, bar_w, bar_h);
  cairo_set_source(cr, gradient);
  cairo_fill(cr);
  cairo_pattern_destroy(gradient);
  canvas.set_color(kAxisColor);
  cairo_rectangle(cr, bar_x - 0.5, bar_y - 0.5, bar_w + 1, bar_h + 1);
  cairo_stroke(cr);
  canvas.set_font(12);
  for (double v : bar_ticks.values) {
    const double y = bar_y + bar_h - (v - map.lo) / (map.hi - map.lo) * bar_h;
    canvas.set_color(kAxisColor);
    cairo_move_to(cr, bar_x + bar_w, y);
    cairo_line_to(cr, bar_x + bar_w + 4, y);
    cairo_stroke(cr);
    canvas.set_color(kTextColor);
    canvas.text(bar_x + bar_w + 6, y, format_tick(v, bar_ticks.step), HAlign::Left, VAlign::Middle);
  }
  if (!chart.value_label.empty()) {
    canvas.set_font(13, true);
    canvas.text(bar_x + bar_w + 6 + bar_label_w + 8, bar_y + bar_h / 2, canvas.truncate(chart.value_label, bar_h),
                HAlign::Center, VAlign::Top, -std::numbers::pi / 2);
  }
  if (any_missing) {
    const double y = bar_y + bar_h + 14;
    hatch_draw(cr, bar_x, y, bar_w, 14);
    canvas.set_font(12);
    canvas.set_color(kTextColor);
    canvas.text(bar_x + bar_w + 6, y + 7, "NaN", HAlign::Left, VAlign::Middle);
  }
  return canvas.finish();
}

void heatmap_write(const Heatmap& chart, const std::filesystem::path& path, ImageFormat format) {
  detail::bytes_write(heatmap_render(chart, format), path);
}

}  // namespace optipfair
