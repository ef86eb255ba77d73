#include <algorithm>
#include <cmath>
#include <limits>

#include "report/category_axes.h"
#include "report/plot.h"
#include "report/plot_canvas.h"
#include "util/error.h"

namespace optipfair {

std::string line_chart_render(const LineChart& chart, ImageFormat format) {
  using namespace detail;
  for (const auto& s : chart.series) {
    if (s.values.size() != chart.categories.size()) {
      throw Error("line chart series '" + s.name + "' has " + std::to_string(s.values.size()) +
                  " values for " + std::to_string(chart.categories.size()) + " categories");
    }
  }
  const int width = chart_dimension(chart.width, 1000, "width");
  const int height = chart_dimension(chart.height, 600, "height");
  PlotCanvas canvas(format, width, height, chart.text.title);
  cairo_t* cr = canvas.cr();
  Rect area = canvas.draw_frame(chart.text.title, chart.text.caption);

  bool any_finite = false;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : chart.series) {
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      any_finite = true;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (chart.categories.empty() || chart.series.empty()) {
    canvas.draw_no_data(area, chart.categories.empty() ? "the chart has no categories" : "the chart has no series");
    return canvas.finish();
  }
  if (!any_finite) { lo = 0; hi = 1; }
  if (chart.include_zero) { lo = std::min(lo, 0.0); hi = std::max(hi, 0.0); }

  // Colour and marker shape both differ per series, so lines stay apart without colour.
  static const Marker markers[] = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
  if (chart.series.size() > 1) {
    std::vector<LegendEntry> legend;
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const std::string name = chart.series[s].name.empty() ? "series " + std::to_string(s + 1) : chart.series[s].name;
      legend.push_back({name, series_color(s), markers[s % 4]});
    }
    area = legend_draw(canvas, area, legend);
  }
  CategoryAxes axes(canvas, area, chart.text, chart.categories, lo, hi);
  axes.zero_line_draw(canvas);

  const double radius = std::clamp(axes.slot_width() * 0.2, 2.0, 4.5);
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const auto& values = chart.series[s].values;
    canvas.set_color(series_color(s));
    cairo_set_line_width(cr, 2.2);
    bool pen_down = false;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        pen_down = false;
        continue;
      }
      const double x = axes.x_center(i), y = axes.y_of(values[i]);
      if (pen_down) cairo_line_to(cr, x, y);
      else cairo_move_to(cr, x, y);
      pen_down = true;
    }
    cairo_stroke(cr);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::isfinite(values[i])) {
        marker_draw(canvas, markers[s % 4], axes.x_center(i), axes.y_of(values[i]), radius, series_color(s));
      } else {
        canvas.set_font(10);
        canvas.set_color(series_color(s));
        canvas.text(axes.x_center(i), axes.plot().bottom() - 4 - 12.0 * static_cast<double>(s), "n/a",
                    HAlign::Center, VAlign::Bottom);
      }
    }
  }
  return canvas.finish();
}

void line_chart_write(const LineChart& chart, const std::filesystem::path& path, ImageFormat format) {
  detail::bytes_write(line_chart_render(chart, format), path);
}

}  // namespace optipfair
