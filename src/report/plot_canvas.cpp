#include "report/plot_canvas.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "report/label_text.h"
#include "util/error.h"

namespace optipfair::detail {

namespace {

// Cairo fonts are picked through fontconfig; DejaVu Sans (fonts-dejavu-core) covers Latin,
// Greek, Cyrillic and the symbols used for visible whitespace.
constexpr const char* kFontFamily = "DejaVu Sans";
// PDF works in points; scaling keeps a chart the same physical size as its PNG at 96 dpi.
constexpr double kPdfPointsPerPixel = 0.75;

cairo_status_t bytes_append(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::string*>(closure);
  out->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

// GCC defines __SANITIZE_ADDRESS__ under -fsanitize=address; clang 14 only answers __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define OPTIPFAIR_PLOT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPTIPFAIR_PLOT_ASAN 1
#endif
#endif

#if defined(OPTIPFAIR_PLOT_ASAN)
// Fontconfig keeps its font cache for the life of the process and never frees it; that is by
// design, not a leak of ours, and would otherwise fail every sanitized binary that draws text.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
// LeakSanitizer otherwise lists the suppressions it used on stderr at exit, which would mix into
// the output of a command whose stderr is captured with its stdout.
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
#endif

const Color& series_color(std::size_t index) {
  static const std::array<Color, 7> palette = {{
      {0.000, 0.447, 0.698},  // blue
      {0.902, 0.624, 0.000},  // orange
      {0.000, 0.620, 0.451},  // bluish green
      {0.835, 0.369, 0.000},  // vermillion
      {0.800, 0.475, 0.655},  // reddish purple
      {0.337, 0.706, 0.914},  // sky blue
      {0.941, 0.894, 0.259},  // yellow
  }};
  return palette[index % palette.size()];
}

PlotCanvas::PlotCanvas(ImageFormat format, int width, int height, const std::string& title)
    : format_(format), width_(width), height_(height) {
  switch (format) {
    case ImageFormat::PNG:
      surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
      break;
    case ImageFormat::SVG:
      surface_ = cairo_svg_surface_create_for_stream(bytes_append, &bytes_, width, height);
      cairo_svg_surface_set_document_unit(surface_, CAIRO_SVG_UNIT_PX);
      break;
    case ImageFormat::PDF:
      surface_ = cairo_pdf_surface_create_for_stream(bytes_append, &bytes_, width * kPdfPointsPerPixel,
                                                     height * kPdfPointsPerPixel);
      if (!title.empty()) {
        cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_TITLE, utf8_sanitize(title).c_str());
      }
      break;
  }
  cr_ = cairo_create(surface_);
  if (format == ImageFormat::PDF) cairo_scale(cr_, kPdfPointsPerPixel, kPdfPointsPerPixel);
  // An opaque white background: transparent PNGs are unreadable in dark-mode viewers.
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
  set_font(12);
}

PlotCanvas::~PlotCanvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

void PlotCanvas::set_color(const Color& c, double alpha) {
  cairo_set_source_rgba(cr_, c.r, c.g, c.b, alpha);
}

void PlotCanvas::set_font(double size, bool bold, bool italic) {
  cairo_select_font_face(cr_, kFontFamily, italic ? CAIRO_FONT_SLANT_ITALIC : CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  font_size_ = size;
}

double PlotCanvas::text_width(std::string_view text) {
  const std::string clean = utf8_sanitize(text);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, clean.c_str(), &ext);
  return ext.x_advance;
}

void PlotCanvas::text(double x, double y, std::string_view text, HAlign h, VAlign v, double angle) {
  const std::string clean = utf8_sanitize(text);
  if (clean.empty()) return;
  cairo_font_extents_t font;
  cairo_font_extents(cr_, &font);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, clean.c_str(), &ext);
  double dx = 0;
  if (h == HAlign::Center) dx = -ext.x_advance / 2;
  if (h == HAlign::Right) dx = -ext.x_advance;
  double dy = 0;
  switch (v) {
    case VAlign::Top: dy = font.ascent; break;
    case VAlign::Middle: dy = (font.ascent - font.descent) / 2; break;
    case VAlign::Baseline: dy = 0; break;
    case VAlign::Bottom: dy = -font.descent; break;
  }
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  if (angle != 0.0) cairo_rotate(cr_, angle);
  cairo_move_to(cr_, dx, dy);
  cairo_show_text(cr_, clean.c_str());
  cairo_new_path(cr_);
  cairo_restore(cr_);
}

std::vector<std::string> PlotCanvas::wrap(std::string_view text, double max_width) {
  const std::string clean = utf8_sanitize(text);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= clean.size()) {
    std::size_t end = clean.find('\n', start);
    if (end == std::string::npos) end = clean.size();
    const std::string_view paragraph(clean.data() + start, end - start);
    std::string line;
    std::size_t i = 0;
    while (i < paragraph.size()) {
      std::size_t word_end = paragraph.find(' ', i);
      if (word_end == std::string_view::npos) word_end = paragraph.size();
      std::string word(paragraph.substr(i, word_end - i));
      const std::string candidate = line.empty() ? word : line + " " + word;
      if (text_width(candidate) <= max_width) {
        line = candidate;
      } else {
        if (!line.empty()) lines.push_back(line);
        line.clear();
        // A word wider than the whole line (a URL, a long token) is cut between characters.
        while (text_width(word) > max_width && word.size() > 1) {
          std::size_t cut = 0;
          while (cut < word.size()) {
            const std::size_t next = cut + utf8_char_length(word, cut);
            if (cut > 0 && text_width(word.substr(0, next)) > max_width) break;
            cut = next;
          }
          lines.push_back(word.substr(0, cut));
          word = word.substr(cut);
        }
        line = word;
      }
      i = word_end + 1;
    }
    lines.push_back(line);
    if (end == clean.size()) break;
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string PlotCanvas::truncate(std::string_view text, double max_width) {
  std::string clean = utf8_sanitize(text);
  if (text_width(clean) <= max_width) return clean;
  const std::string ellipsis = "\xE2\x80\xA6";
  std::vector<std::size_t> boundaries;
  for (std::size_t i = 0; i < clean.size(); i += utf8_char_length(clean, i)) boundaries.push_back(i);
  while (!boundaries.empty()) {
    const std::string candidate = clean.substr(0, boundaries.back()) + ellipsis;
    boundaries.pop_back();
    if (text_width(candidate) <= max_width) return candidate;
  }
  return ellipsis;
}

Rect PlotCanvas::draw_frame(const std::string& title, const std::string& caption) {
  const double margin = 16;
  double top = margin;
  if (!title.empty()) {
    set_font(20, true);
    set_color(kTextColor);
    const auto lines = wrap(title, width_ - 2 * margin);
    for (const auto& line : lines) {
      text(width_ / 2, top, line, HAlign::Center, VAlign::Top);
      top += 26;
    }
    top += 6;
  }
  double bottom = height_ - margin;
  if (!caption.empty()) {
    set_font(13);
    const auto lines = wrap(caption, width_ - 2 * margin);
    const double line_height = 17;
    // The caption never takes more than a third of the figure; the rest is cut with "…".
    const std::size_t max_lines = std::max<std::size_t>(1, static_cast<std::size_t>(height_ / 3 / line_height));
    std::vector<std::string> shown(lines.begin(), lines.begin() + std::min(lines.size(), max_lines));
    if (lines.size() > max_lines) shown.back() = truncate(shown.back() + " \xE2\x80\xA6", width_ - 2 * margin);
    bottom -= line_height * static_cast<double>(shown.size());
    set_color(kMutedColor);
    double y = bottom + 4;
    for (const auto& line : shown) {
      text(margin, y, line, HAlign::Left, VAlign::Top);
      y += line_height;
    }
    bottom -= 8;
    set_color(kGridColor);
    cairo_set_line_width(cr_, 1);
    cairo_move_to(cr_, margin, bottom + 4);
    cairo_line_to(cr_, width_ - margin, bottom + 4);
    cairo_stroke(cr_);
  }
  return Rect{margin, top, width_ - 2 * margin, std::max(0.0, bottom - top)};
}

void PlotCanvas::draw_no_data(const Rect& area, const std::string& note) {
  set_color(kGridColor);
  cairo_set_line_width(cr_, 1);
  cairo_rectangle(cr_, area.x + 0.5, area.y + 0.5, area.w - 1, area.h - 1);
  cairo_stroke(cr_);
  set_font(18, true);
  set_color(kMutedColor);
  text(area.x + area.w / 2, area.y + area.h / 2, "No data to plot", HAlign::Center, VAlign::Bottom);
  if (!note.empty()) {
    set_font(13);
    text(area.x + area.w / 2, area.y + area.h / 2 + 8, truncate(note, area.w - 20), HAlign::Center, VAlign::Top);
  }
}

std::string PlotCanvas::finish() {
  cairo_status_t status = cairo_status(cr_);
  if (status == CAIRO_STATUS_SUCCESS && format_ == ImageFormat::PNG) {
    cairo_surface_flush(surface_);
    status = cairo_surface_write_to_png_stream(surface_, bytes_append, &bytes_);
  }
  cairo_destroy(cr_);
  cr_ = nullptr;
  cairo_surface_finish(surface_);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface_);
  if (status != CAIRO_STATUS_SUCCESS) {
    throw Error(std::string("drawing the ") + std::string(image_format_name(format_)) +
                " chart failed: " + cairo_status_to_string(status));
  }
  return std::move(bytes_);
}

AxisTicks axis_ticks(double lo, double hi, int target_count, bool extend) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) { lo = 0; hi = 1; }
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-12) {
    // One distinct value: centre it in a range it can be read against.
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.5;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target_count - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  double nice = 10;
  if (fraction <= 1) nice = 1;
  else if (fraction <= 2) nice = 2;
  else if (fraction <= 5) nice = 5;
  const double step = nice * magnitude;
  AxisTicks ticks;
  ticks.step = step;
  const double eps = step * 1e-9;
  const double first = extend ? std::floor(lo / step + 1e-9) * step : std::ceil(lo / step - 1e-9) * step;
  const double last = extend ? std::ceil(hi / step - 1e-9) * step : std::floor(hi / step + 1e-9) * step;
  ticks.lo = extend ? first : lo;
  ticks.hi = extend ? last : hi;
  for (int i = 0;; ++i) {
    double v = first + i * step;
    if (v > last + eps) break;
    if (std::abs(v) < eps) v = 0;  // no "-0"
    ticks.values.push_back(v);
    if (i > 1000) break;  // step underflow guard
  }
  return ticks;
}

std::string format_tick(double value, double step) {
  char buf[64];
  const double magnitude = std::max(std::abs(value), step);
  if (step > 0 && (step < 1e-4 || magnitude >= 1e7)) {
    // Digits needed to tell neighbouring ticks apart, in scientific form.
    const int digits = std::clamp(static_cast<int>(std::ceil(std::log10(magnitude / step))) + 1, 1, 6);
    std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  } else {
    int decimals = 0;
    while (decimals < 8) {
      const double scaled = step * std::pow(10.0, decimals);
      if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
      ++decimals;
    }
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  }
  std::string s = buf;
  // A typographic minus reads better than a hyphen next to digits.
  if (!s.empty() && s[0] == '-') s = "\xE2\x88\x92" + s.substr(1);
  return s;
}

void bytes_write(const std::string& bytes, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw Error("cannot write '" + path.string() + "': " + std::strerror(errno));
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error("cannot write '" + path.string() + "': the write failed (disk full?)");
}

int chart_dimension(int requested, int fallback, const char* what) {
  const int value = requested == 0 ? fallback : requested;
  // Cairo image surfaces top out at 32767 pixels a side; tiny charts cannot hold their text.
  if (value < 100 || value > 16000) {
    throw Error(std::string("chart ") + what + " must be between 100 and 16000 pixels, got " +
                std::to_string(value));
  }
  return value;
}

}  // namespace optipfair::detail
