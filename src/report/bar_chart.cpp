#include <algorithm>
#include <cmath>
#include <numbers>

#include "report/category_axes.h"
#include "report/plot.h"
#include "report/plot_canvas.h"
#include "util/error.h"

namespace optipfair {

namespace {

void bar_chart_check(const BarChart& chart) {
  for (const auto& s : chart.series) {
    if (s.values.size() != chart.categories.size()) {
      throw Error("bar chart series '" + s.name + "' has " + std::to_string(s.values.size()) +
                  " values for " + std::to_string(chart.categories.size()) + " categories");
    }
    if (!s.errors.empty() && s.errors.size() != s.values.size()) {
      throw Error("bar chart series '" + s.name + "' has " + std::to_string(s.errors.size()) +
                  " error bars for " + std::to_string(s.values.size()) + " values");
    }
  }
}

}  // namespace

std::string bar_chart_render(const BarChart& chart, ImageFormat format) {
  using namespace detail;
  bar_chart_check(chart);
  const int width = chart_dimension(chart.width, 1000, "width");
  const int height = chart_dimension(chart.height, 600, "height");
  PlotCanvas canvas(format, width, height, chart.text.title);
  cairo_t* cr = canvas.cr();
  Rect area = canvas.draw_frame(chart.text.title, chart.text.caption);

  bool any_finite = false;
  double lo = 0, hi = 0;  // bars grow from zero, so zero is always on the axis
  for (const auto& s : chart.series) {
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      const double v = s.values[i];
      if (!std::isfinite(v)) continue;
      any_finite = true;
      const double e = (!s.errors.empty() && std::isfinite(s.errors[i])) ? std::abs(s.errors[i]) : 0.0;
      lo = std::min(lo, v - e);
      hi = std::max(hi, v + e);
    }
  }
  if (chart.categories.empty() || chart.series.empty()) {
    canvas.draw_no_data(area, chart.categories.empty() ? "the chart has no categories" : "the chart has no series");
    return canvas.finish();
  }

  if (chart.series.size() > 1) {
    std::vector<LegendEntry> legend;
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const std::string name = chart.series[s].name.empty() ? "series " + std::to_string(s + 1) : chart.series[s].name;
      legend.push_back({name, series_color(s), Marker::Bar});
    }
    area = legend_draw(canvas, area, legend);
  }
  if (!any_finite) hi = 1;  // every value is NaN/Inf: an empty axis with "n/a" marks
  CategoryAxes axes(canvas, area, chart.text, chart.categories, lo, hi);

  const double group_w = axes.slot_width() * (chart.series.size() > 1 ? 0.82 : 0.7);
  const double bar_w = group_w / static_cast<double>(chart.series.size());
  const double zero_y = axes.y_of(0);
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const BarSeries& series = chart.series[s];
    for (std::size_t i = 0; i < series.values.size(); ++i) {
      const double x0 = axes.x_center(i) - group_w / 2 + bar_w * static_cast<double>(s);
      const double v = series.values[i];
      if (!std::isfinite(v)) {
        // A missing bar must not read as zero: say why it is missing.
        canvas.set_font(std::clamp(bar_w * 0.8, 7.0, 11.0));
        canvas.set_color(series_color(s));
        const std::string mark = std::isnan(v) ? "n/a" : (v > 0 ? "+\xE2\x88\x9E" : "\xE2\x88\x92\xE2\x88\x9E");
        canvas.text(x0 + bar_w / 2, zero_y - 3, mark, HAlign::Left, VAlign::Middle, -std::numbers::pi / 2);
        continue;
      }
      const double y = axes.y_of(v);
      // Spacing between neighbouring bars keeps grouped bars distinct when they are thin.
      const double inset = bar_w > 6 ? 1.0 : 0.0;
      canvas.set_color(series_color(s));
      cairo_rectangle(cr, x0 + inset, std::min(y, zero_y), bar_w - 2 * inset, std::abs(zero_y - y));
      cairo_fill(cr);
      if (!series.errors.empty() && std::isfinite(series.errors[i]) && series.errors[i] != 0) {
        const double e = std::abs(series.errors[i]);
        const double xc = x0 + bar_w / 2;
        const double cap = std::min(bar_w * 0.3, 6.0);
        canvas.set_color(kTextColor);
        cairo_set_line_width(cr, 1.3);
        cairo_move_to(cr, xc, axes.y_of(v - e));
        cairo_line_to(cr, xc, axes.y_of(v + e));
        cairo_move_to(cr, xc - cap, axes.y_of(v - e));
        cairo_line_to(cr, xc + cap, axes.y_of(v - e));
        cairo_move_to(cr, xc - cap, axes.y_of(v + e));
        cairo_line_to(cr, xc + cap, axes.y_of(v + e));
        cairo_stroke(cr);
      }
    }
  }
  axes.zero_line_draw(canvas);
  return canvas.finish();
}

void bar_chart_write(const BarChart& chart, const std::filesystem::path& path, ImageFormat format) {
  detail::bytes_write(bar_chart_render(chart, format), path);
}

}  // namespace optipfair
