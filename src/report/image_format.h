// The file formats every chart can be written in, and their names on the command line.
#pragma once
#include <string>
#include <string_view>

namespace optipfair {

enum class ImageFormat { PNG, SVG, PDF };

// "png", "svg" or "pdf", any case, with or without a leading dot; anything else throws Error.
ImageFormat image_format_from_name(std::string_view name);

// "png", "svg", "pdf".
std::string_view image_format_name(ImageFormat format);

// ".png", ".svg", ".pdf": append to a file stem.
std::string_view image_format_extension(ImageFormat format);

// "image/png", "image/svg+xml", "application/pdf": for data URIs in the HTML report.
std::string_view image_format_mime_type(ImageFormat format);

}  // namespace optipfair
