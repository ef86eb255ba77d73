// The frame bar and line charts share (internal): categories along x, a numeric y axis with
// nice ticks and grid lines, axis titles and a legend row.
#pragma once
#include <string>
#include <vector>

#include "report/plot.h"
#include "report/plot_canvas.h"

namespace optipfair::detail {

enum class Marker { Circle, Square, Triangle, Diamond, Bar };

struct LegendEntry {
  std::string name;
  Color color;
  Marker marker;
};

// Draws a centred row of legend entries at the top of `area`; returns the area below it.
Rect legend_draw(PlotCanvas& canvas, const Rect& area, const std::vector<LegendEntry>& entries);

// Draws a marker centred at (x, y) of the given radius: filled, with a white outline.
void marker_draw(PlotCanvas& canvas, Marker marker, double x, double y, double radius, const Color& color);

class CategoryAxes {
 public:
  // Lays out and draws axes, ticks, grid and titles for `categories` and the y range [lo, hi].
  CategoryAxes(PlotCanvas& canvas, const Rect& area, const ChartText& text,
               const std::vector<std::string>& categories, double lo, double hi);
  const Rect& plot() const { return plot_; }
  double slot_width() const { return slot_; }
  double x_center(std::size_t category) const { return plot_.x + slot_ * (category + 0.5); }
  double y_of(double value) const;  // clamped to the plot area
  // Redraws the zero line above bars (it must stay visible through them).
  void zero_line_draw(PlotCanvas& canvas) const;

 private:
  Rect plot_;
  AxisTicks ticks_;
  double slot_ = 0;
};

}  // namespace optipfair::detail
