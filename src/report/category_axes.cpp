#include "report/category_axes.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace optipfair::detail {

Rect legend_draw(PlotCanvas& canvas, const Rect& area, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return area;
  canvas.set_font(13);
  const double swatch = 14, gap = 8, spacing = 24, row_height = 22;
  // Entries flow into as many centred rows as the width needs.
  std::vector<std::vector<std::pair<std::string, std::size_t>>> rows(1);
  std::vector<double> row_widths(1, 0.0);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string name = canvas.truncate(entries[i].name, area.w / 2);
    const double w = swatch + gap + canvas.text_width(name);
    double& row_w = row_widths.back();
    if (row_w > 0 && row_w + spacing + w > area.w) {
      rows.emplace_back();
      row_widths.push_back(0.0);
    }
    row_widths.back() += (row_widths.back() > 0 ? spacing : 0) + w;
    rows.back().emplace_back(name, i);
  }
  double y = area.y + 2;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    double x = area.x + (area.w - row_widths[r]) / 2;
    for (const auto& [name, index] : rows[r]) {
      const LegendEntry& e = entries[index];
      if (e.marker == Marker::Bar) {
        canvas.set_color(e.color);
        cairo_rectangle(canvas.cr(), x, y + row_height / 2 - swatch / 2, swatch, swatch);
        cairo_fill(canvas.cr());
      } else {
        canvas.set_color(e.color);
        cairo_set_line_width(canvas.cr(), 2.5);
        cairo_move_to(canvas.cr(), x - 4, y + row_height / 2);
        cairo_line_to(canvas.cr(), x + swatch + 4, y + row_height / 2);
        cairo_stroke(canvas.cr());
        marker_draw(canvas, e.marker, x + swatch / 2, y + row_height / 2, 5, e.color);
      }
      canvas.set_color(kTextColor);
      canvas.text(x + swatch + gap, y + row_height / 2, name, HAlign::Left, VAlign::Middle);
      x += swatch + gap + canvas.text_width(name) + spacing;
    }
    y += row_height;
  }
  y += 6;
  return Rect{area.x, y, area.w, std::max(0.0, area.bottom() - y)};
}

void marker_draw(PlotCanvas& canvas, Marker marker, double x, double y, double radius, const Color& color) {
  cairo_t* cr = canvas.cr();
  switch (marker) {
    case Marker::Circle:
    case Marker::Bar:
      cairo_arc(cr, x, y, radius, 0, 2 * std::numbers::pi);
      break;
    case Marker::Square:
      cairo_rectangle(cr, x - radius * 0.88, y - radius * 0.88, radius * 1.76, radius * 1.76);
      break;
    case Marker::Triangle:
      cairo_move_to(cr, x, y - radius * 1.2);
      cairo_line_to(cr, x + radius * 1.1, y + radius * 0.8);
      cairo_line_to(cr, x - radius * 1.1, y + radius * 0.8);
      cairo_close_path(cr);
      break;
    case Marker::Diamond:
      cairo_move_to(cr, x, y - radius * 1.25);
      cairo_line_to(cr, x + radius * 1.25, y);
      cairo_line_to(cr, x, y + radius * 1.25);
      cairo_line_to(cr, x - radius * 1.25, y);
      cairo_close_path(cr);
      break;
  }
  canvas.set_color(color);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
}

CategoryAxes::CategoryAxes(PlotCanvas& canvas, const Rect& area, const ChartText& text,
                           const std::vector<std::string>& categories, double lo, double hi) {
  cairo_t* cr = canvas.cr();
  ticks_ = axis_ticks(lo, hi, 6, true);
  const double tick_font = 12;

  // Left: rotated y title, then tick labels.
  canvas.set_font(tick_font);
  double tick_label_w = 0;
  for (double v : ticks_.values) tick_label_w = std::max(tick_label_w, canvas.text_width(format_tick(v, ticks_.step)));
  const double y_title_w = text.y_label.empty() ? 0 : 24;
  const double left = y_title_w + tick_label_w + 10;
  const double right_pad = 12;
  plot_.x = area.x + left;
  plot_.w = std::max(10.0, area.w - left - right_pad);
  const std::size_t n = std::max<std::size_t>(1, categories.size());
  slot_ = plot_.w / static_cast<double>(n);

  // Bottom: category labels horizontal when they fit their slot, else at 45°, thinned out
  // when even rotated labels would overlap; their depth is capped at a third of the area.
  double label_w = 0;
  for (const auto& c : categories) label_w = std::max(label_w, canvas.text_width(c));
  const double font_h = tick_font * 1.25;
  bool rotate = label_w > slot_ * 0.92;
  std::size_t every = 1;
  if (rotate) every = static_cast<std::size_t>(std::ceil(font_h * 1.15 / slot_));
  if (!rotate && label_w > 0) every = 1;
  const double max_label_depth = area.h / 3;
  const double diag = std::numbers::sqrt2 / 2;
  double label_depth = font_h + 4;
  double max_rotated_w = label_w;
  if (rotate) {
    max_rotated_w = std::min(label_w, (max_label_depth - font_h * diag) / diag);
    label_depth = max_rotated_w * diag + font_h * diag + 6;
  }
  const double x_title_h = text.x_label.empty() ? 0 : 24;
  plot_.y = area.y + 6;
  plot_.h = std::max(10.0, area.h - 6 - 6 - label_depth - x_title_h);

  // Grid and y ticks.
  cairo_set_line_width(cr, 1);
  for (double v : ticks_.values) {
    const double y = std::round(y_of(v)) + 0.5;
    canvas.set_color(kGridColor);
    cairo_move_to(cr, plot_.x, y);
    cairo_line_to(cr, plot_.right(), y);
    cairo_stroke(cr);
    canvas.set_color(kTextColor);
    canvas.text(plot_.x - 6, y, format_tick(v, ticks_.step), HAlign::Right, VAlign::Middle);
  }
  // Axis lines: left and bottom.
  canvas.set_color(kAxisColor);
  cairo_move_to(cr, std::round(plot_.x) + 0.5, plot_.y);
  cairo_line_to(cr, std::round(plot_.x) + 0.5, plot_.bottom());
  cairo_line_to(cr, plot_.right(), plot_.bottom());
  cairo_stroke(cr);

  // Category labels and tick marks.
  canvas.set_font(tick_font);
  for (std::size_t i = 0; i < categories.size(); ++i) {
    const double x = x_center(i);
    canvas.set_color(kAxisColor);
    cairo_move_to(cr, x, plot_.bottom());
    cairo_line_to(cr, x, plot_.bottom() + 4);
    cairo_stroke(cr);
    if (i % every != 0) continue;
    canvas.set_color(kTextColor);
    if (rotate) {
      // A slanted label reaches left of its tick; near the left edge it is shortened to fit.
      const double room = (x + 3 - area.x) / diag;
      const std::string label = canvas.truncate(categories[i], std::min(max_rotated_w, room));
      canvas.text(x + 3, plot_.bottom() + 6, label, HAlign::Right, VAlign::Middle, -std::numbers::pi / 4);
    } else {
      canvas.text(x, plot_.bottom() + 6, categories[i], HAlign::Center, VAlign::Top);
    }
  }

  // Axis titles.
  canvas.set_font(14, true);
  canvas.set_color(kTextColor);
  if (!text.x_label.empty()) {
    canvas.text(plot_.x + plot_.w / 2, area.bottom(), canvas.truncate(text.x_label, plot_.w), HAlign::Center,
                VAlign::Bottom);
  }
  if (!text.y_label.empty()) {
    canvas.text(area.x, plot_.y + plot_.h / 2, canvas.truncate(text.y_label, plot_.h), HAlign::Center,
                VAlign::Top, -std::numbers::pi / 2);
  }
}

double CategoryAxes::y_of(double value) const {
  const double t = (value - ticks_.lo) / (ticks_.hi - ticks_.lo);
  return plot_.bottom() - std::clamp(t, 0.0, 1.0) * plot_.h;
}

void CategoryAxes::zero_line_draw(PlotCanvas& canvas) const {
  if (ticks_.lo >= 0 || ticks_.hi <= 0) return;
  const double y = std::round(y_of(0)) + 0.5;
  canvas.set_color(kAxisColor);
  cairo_set_line_width(canvas.cr(), 1);
  cairo_move_to(canvas.cr(), plot_.x, y);
  cairo_line_to(canvas.cr(), plot_.right(), y);
  cairo_stroke(canvas.cr());
}

}  // namespace optipfair::detail
