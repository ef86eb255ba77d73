#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>

#include "report/category_axes.h"
#include "report/label_text.h"
#include "report/plot.h"
#include "report/plot_canvas.h"
#include "util/error.h"

namespace optipfair {

namespace {

using namespace detail;

constexpr Marker kSeriesMarkers[] = {Marker::Circle, Marker::Triangle, Marker::Square, Marker::Diamond};

bool rects_overlap(const Rect& a, const Rect& b) {
  return a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom();
}

bool point_finite(const ScatterPoint& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

void arrow_draw(cairo_t* cr, double x0, double y0, double x1, double y1, double shorten, double head) {
  const double dx = x1 - x0, dy = y1 - y0;
  const double len = std::hypot(dx, dy);
  if (len <= 2 * shorten + 1) return;  // the two points sit on each other
  const double ux = dx / len, uy = dy / len;
  const double sx = x0 + ux * shorten, sy = y0 + uy * shorten;
  const double ex = x1 - ux * shorten, ey = y1 - uy * shorten;
  cairo_move_to(cr, sx, sy);
  cairo_line_to(cr, ex - ux * head * 0.6, ey - uy * head * 0.6);
  cairo_stroke(cr);
  cairo_move_to(cr, ex, ey);
  cairo_line_to(cr, ex - ux * head - uy * head * 0.45, ey - uy * head + ux * head * 0.45);
  cairo_line_to(cr, ex - ux * head + uy * head * 0.45, ey - uy * head - ux * head * 0.45);
  cairo_close_path(cr);
  cairo_fill(cr);
}

}  // namespace

std::string pca_axis_label(int component_index, double explained_variance_ratio) {
  std::string label = "PC" + std::to_string(component_index + 1);
  if (!std::isfinite(explained_variance_ratio)) return label;
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.1f%%)", explained_variance_ratio * 100.0);
  return label + buf;
}

std::string scatter_plot_render(const ScatterPlot& chart, ImageFormat format) {
  if (chart.series.size() < 2 && !chart.arrows.empty()) {
    throw Error("scatter plot arrows need two point series, got " + std::to_string(chart.series.size()));
  }
  for (const auto& a : chart.arrows) {
    if (a.from >= chart.series[0].points.size() || a.to >= chart.series[1].points.size()) {
      throw Error("scatter plot arrow " + std::to_string(a.from) + " -> " + std::to_string(a.to) +
                  " points past the " + std::to_string(chart.series[0].points.size()) + " and " +
                  std::to_string(chart.series[1].points.size()) + " points of its series");
    }
  }
  const int width = chart_dimension(chart.width, 1000, "width");
  const int height = chart_dimension(chart.height, 700, "height");
  PlotCanvas canvas(format, width, height, chart.text.title);
  cairo_t* cr = canvas.cr();
  Rect area = canvas.draw_frame(chart.text.title, chart.text.caption);

  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  std::size_t hidden_points = 0, total_points = 0;
  bool any_highlight = false;
  for (const auto& s : chart.series) {
    for (const auto& p : s.points) {
      ++total_points;
      if (!point_finite(p)) {
        ++hidden_points;
        continue;
      }
      any_highlight = any_highlight || p.highlighted;
      x_lo = std::min(x_lo, p.x);
      x_hi = std::max(x_hi, p.x);
      y_lo = std::min(y_lo, p.y);
      y_hi = std::max(y_hi, p.y);
    }
  }
  if (total_points == 0) {
    canvas.draw_no_data(area, "the chart has no points");
    return canvas.finish();
  }
  if (x_lo > x_hi) { x_lo = y_lo = 0; x_hi = y_hi = 1; }

  std::vector<LegendEntry> legend;
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const std::string name = chart.series[s].name.empty() ? "series " + std::to_string(s + 1) : chart.series[s].name;
    legend.push_back({name, series_color(s), kSeriesMarkers[s % 4]});
  }
  area = legend_draw(canvas, area, legend);

  // Labels sit beside points, so the data range gets a margin for them.
  const double x_pad = (x_hi - x_lo) * 0.06, y_pad = (y_hi - y_lo) * 0.06;
  const AxisTicks xt = axis_ticks(x_lo - x_pad, x_hi + x_pad, 7, true);
  const AxisTicks yt = axis_ticks(y_lo - y_pad, y_hi + y_pad, 6, true);
  canvas.set_font(12);
  double y_tick_w = 0;
  for (double v : yt.values) y_tick_w = std::max(y_tick_w, canvas.text_width(format_tick(v, yt.step)));
  const double y_title_w = chart.text.y_label.empty() ? 0 : 24;
  const double x_title_h = chart.text.x_label.empty() ? 0 : 24;
  Rect plot;
  plot.x = area.x + y_title_w + y_tick_w + 10;
  plot.y = area.y + 4;
  plot.w = std::max(10.0, area.right() - 12 - plot.x);
  plot.h = std::max(10.0, area.bottom() - plot.y - 22 - x_title_h);
  const auto px = [&](double x) { return plot.x + (x - xt.lo) / (xt.hi - xt.lo) * plot.w; };
  const auto py = [&](double y) { return plot.bottom() - (y - yt.lo) / (yt.hi - yt.lo) * plot.h; };

  cairo_set_line_width(cr, 1);
  for (double v : xt.values) {
    const double x = std::round(px(v)) + 0.5;
    canvas.set_color(v == 0 ? Color{0.7, 0.7, 0.7} : kGridColor);
    cairo_move_to(cr, x, plot.y);
    cairo_line_to(cr, x, plot.bottom());
    cairo_stroke(cr);
    canvas.set_color(kTextColor);
    canvas.text(x, plot.bottom() + 6, format_tick(v, xt.step), HAlign::Center, VAlign::Top);
  }
  for (double v : yt.values) {
    const double y = std::round(py(v)) + 0.5;
    canvas.set_color(v == 0 ? Color{0.7, 0.7, 0.7} : kGridColor);
    cairo_move_to(cr, plot.x, y);
    cairo_line_to(cr, plot.right(), y);
    cairo_stroke(cr);
    canvas.set_color(kTextColor);
    canvas.text(plot.x - 6, y, format_tick(v, yt.step), HAlign::Right, VAlign::Middle);
  }
  canvas.set_color(kAxisColor);
  cairo_rectangle(cr, std::round(plot.x) + 0.5, std::round(plot.y) + 0.5, std::round(plot.w), std::round(plot.h));
  cairo_stroke(cr);
  canvas.set_font(14, true);
  if (!chart.text.x_label.empty()) {
    canvas.text(plot.x + plot.w / 2, area.bottom(), canvas.truncate(chart.text.x_label, plot.w), HAlign::Center,
                VAlign::Bottom);
  }
  if (!chart.text.y_label.empty()) {
    canvas.text(area.x, plot.y + plot.h / 2, canvas.truncate(chart.text.y_label, plot.h), HAlign::Center, VAlign::Top,
                -std::numbers::pi / 2);
  }

  const double radius = 5.5, big_radius = 8;
  // Arrows under the points: faint for tokens the prompts share, dark for the differing ones.
  for (const auto& a : chart.arrows) {
    const ScatterPoint& p = chart.series[0].points[a.from];
    const ScatterPoint& q = chart.series[1].points[a.to];
    if (!point_finite(p) || !point_finite(q)) continue;
    const bool strong = p.highlighted || q.highlighted;
    cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, strong ? 0.95 : 0.45);
    cairo_set_line_width(cr, strong ? 2.0 : 1.2);
    arrow_draw(cr, px(p.x), py(p.y), px(q.x), py(q.y), strong ? big_radius + 1 : radius + 1, strong ? 10 : 7);
  }

  // Points: ordinary ones first so highlighted ones are never hidden beneath them.
  std::vector<Rect> occupied;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      for (const auto& p : chart.series[s].points) {
        if (!point_finite(p) || p.highlighted != (pass == 1)) continue;
        const double x = px(p.x), y = py(p.y);
        const double r = p.highlighted ? big_radius : radius;
        if (p.highlighted) {
          cairo_arc(cr, x, y, r + 2.5, 0, 2 * std::numbers::pi);
          cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
          cairo_fill(cr);
        }
        marker_draw(canvas, kSeriesMarkers[s % 4], x, y, r, series_color(s));
        occupied.push_back(Rect{x - r, y - r, 2 * r, 2 * r});
      }
    }
  }

  // Labels: greedy placement around each point, highlighted labels first; a label that
  // would cover another is left out rather than drawn unreadably.
  std::size_t hidden_labels = 0;
  for (int pass = 1; pass >= 0; --pass) {
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      for (const auto& p : chart.series[s].points) {
        if (!point_finite(p) || p.highlighted != (pass == 1) || p.label.empty()) continue;
        canvas.set_font(p.highlighted ? 13 : 11, p.highlighted);
        const std::string label = canvas.truncate(token_label_visible(p.label), 160);
        const double w = canvas.text_width(label), h = canvas.font_size() * 1.2;
        const double x = px(p.x), y = py(p.y);
        const double r = (p.highlighted ? big_radius : radius) + 3;
        const Rect candidates[] = {
            {x + r, y - h / 2, w, h},          {x - r - w, y - h / 2, w, h}, {x - w / 2, y - r - h, w, h},
            {x - w / 2, y + r, w, h},          {x + r * 0.7, y - r * 0.7 - h, w, h},
            {x + r * 0.7, y + r * 0.7, w, h},  {x - r * 0.7 - w, y - r * 0.7 - h, w, h},
            {x - r * 0.7 - w, y + r * 0.7, w, h},
        };
        const Rect* chosen = nullptr;
        for (const Rect& c : candidates) {
          if (c.x < plot.x || c.right() > plot.right() || c.y < plot.y || c.bottom() > plot.bottom()) continue;
          if (std::none_of(occupied.begin(), occupied.end(), [&](const Rect& o) { return rects_overlap(c, o); })) {
            chosen = &c;
            break;
          }
        }
        if (!chosen && p.highlighted) chosen = &candidates[0];
        if (!chosen) {
          ++hidden_labels;
          continue;
        }
        occupied.push_back(*chosen);
        // A white halo keeps labels readable over arrows and grid lines.
        cairo_set_source_rgba(cr, 1, 1, 1, 0.75);
        cairo_rectangle(cr, chosen->x - 1, chosen->y, chosen->w + 2, chosen->h);
        cairo_fill(cr);
        canvas.set_color(p.highlighted ? kTextColor : Color{0.25, 0.25, 0.25});
        canvas.text(chosen->x, chosen->y + chosen->h / 2, label, HAlign::Left, VAlign::Middle);
      }
    }
  }

  std::string note;
  if (hidden_points > 0) note += std::to_string(hidden_points) + " point(s) with NaN/Inf not shown";
  if (hidden_labels > 0) {
    if (!note.empty()) note += "; ";
    note += std::to_string(hidden_labels) + " overlapping label(s) hidden";
  }
  if (any_highlight && !chart.highlight_meaning.empty()) {
    if (!note.empty()) note += "; ";
    note += "outlined: " + chart.highlight_meaning;
  }
  if (!note.empty()) {
    canvas.set_font(11, false, true);
    canvas.set_color(kMutedColor);
    canvas.text(plot.right() - 6, plot.y + 6, note, HAlign::Right, VAlign::Top);
  }
  return canvas.finish();
}

void scatter_plot_write(const ScatterPlot& chart, const std::filesystem::path& path, ImageFormat format) {
  detail::bytes_write(scatter_plot_render(chart, format), path);
}

}  // namespace optipfair
