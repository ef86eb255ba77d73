// Drawing helpers the charts share (not part of the public API): a cairo surface for one of the
// three formats rendered into memory, text with anchors, wrapping, the palette, axis ticks.
#pragma once
#include <cairo.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "report/image_format.h"

namespace optipfair::detail {

struct Color {
  double r, g, b;
};

// Okabe & Ito's palette, ordered so that neighbouring series stay apart for all common
// colour-vision deficiencies.
const Color& series_color(std::size_t index);
constexpr Color kTextColor{0.13, 0.13, 0.13};
constexpr Color kMutedColor{0.38, 0.38, 0.38};
constexpr Color kGridColor{0.88, 0.88, 0.88};
constexpr Color kAxisColor{0.25, 0.25, 0.25};

enum class HAlign { Left, Center, Right };
enum class VAlign { Top, Middle, Baseline, Bottom };

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

class PlotCanvas {
 public:
  PlotCanvas(ImageFormat format, int width, int height, const std::string& title);
  ~PlotCanvas();
  PlotCanvas(const PlotCanvas&) = delete;
  PlotCanvas& operator=(const PlotCanvas&) = delete;

  cairo_t* cr() const { return cr_; }
  double width() const { return width_; }
  double height() const { return height_; }

  void set_color(const Color& c, double alpha = 1.0);
  void set_font(double size, bool bold = false, bool italic = false);
  double font_size() const { return font_size_; }
  double text_width(std::string_view text);
  // Draws sanitized text with (x, y) at the given anchor, rotated by `angle` radians around it.
  void text(double x, double y, std::string_view text, HAlign h = HAlign::Left,
            VAlign v = VAlign::Baseline, double angle = 0.0);
  // Greedy word wrap to `max_width`; '\n' forces a break; over-long words break between characters.
  std::vector<std::string> wrap(std::string_view text, double max_width);
  // Shortens `text` with a trailing "…" until it fits `max_width`.
  std::string truncate(std::string_view text, double max_width);

  // Renders the title (top) and the wrapped caption (bottom); returns the area left between.
  Rect draw_frame(const std::string& title, const std::string& caption);
  // A centred "no data" note inside `area`, for charts given nothing to plot.
  void draw_no_data(const Rect& area, const std::string& note);

  // Encoded file contents; throws Error when cairo failed anywhere during drawing.
  std::string finish();

 private:
  ImageFormat format_;
  double width_, height_;
  std::string bytes_;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
  double font_size_ = 12.0;
};

// Axis ticks at 1, 2 or 5 times a power of ten, covering [lo, hi].
struct AxisTicks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};
// `extend`: widen [lo, hi] to the enclosing ticks (bar and line axes); otherwise ticks stay
// inside [lo, hi] (colour bars). A degenerate or non-finite range is widened sensibly.
AxisTicks axis_ticks(double lo, double hi, int target_count, bool extend);
// A tick value with just enough decimals for `step`; scientific notation for tiny/huge values.
std::string format_tick(double value, double step);

// Writes bytes to `path`, throwing Error that names the path when it cannot.
void bytes_write(const std::string& bytes, const std::filesystem::path& path);

// Pixel size for a chart: the requested size, or the default when 0, checked for sanity.
int chart_dimension(int requested, int fallback, const char* what);

}  // namespace optipfair::detail
