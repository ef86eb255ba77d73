#include "report/image_format.h"

#include <algorithm>
#include <cctype>

#include "util/error.h"

namespace optipfair {

ImageFormat image_format_from_name(std::string_view name) {
  if (!name.empty() && name.front() == '.') name.remove_prefix(1);
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "png") return ImageFormat::PNG;
  if (lower == "svg") return ImageFormat::SVG;
  if (lower == "pdf") return ImageFormat::PDF;
  throw Error("unknown image format '" + std::string(name) + "': expected png, svg or pdf");
}

std::string_view image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::PNG: return "png";
    case ImageFormat::SVG: return "svg";
    case ImageFormat::PDF: return "pdf";
  }
  return "png";
}

std::string_view image_format_extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::PNG: return ".png";
    case ImageFormat::SVG: return ".svg";
    case ImageFormat::PDF: return ".pdf";
  }
  return ".png";
}

std::string_view image_format_mime_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::PNG: return "image/png";
    case ImageFormat::SVG: return "image/svg+xml";
    case ImageFormat::PDF: return "application/pdf";
  }
  return "application/octet-stream";
}

}  // namespace optipfair
