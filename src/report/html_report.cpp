#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/label_text.h"
#include "report/plot_canvas.h"
#include "util/error.h"

namespace optipfair {

namespace {

// No network, no scripts: the page can only use what it carries. This is also what makes
// "opens offline" a guarantee rather than a hope.
constexpr const char* kContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #222; background: #fff;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.3em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p { white-space: pre-line; }
nav ol { margin: 0.3em 0 1em 0; }
.command { background: #f4f6f8; border: 1px solid #d8dee4; border-radius: 6px; padding: 0.6em 0.9em; }
.command code { white-space: pre-wrap; word-break: break-all; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; border-radius: 6px; padding: 0.8em; overflow-x: auto;
      font-size: 0.85em; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #d5d5d5; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f2f4; }
tbody tr:nth-child(even) { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e5e5e5; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; white-space: pre-line; }
details { margin: 1em 0; }
summary { cursor: pointer; font-weight: bold; }
)css";

std::string json_cell(const nlohmann::json& value, bool* numeric) {
  *numeric = false;
  if (value.is_null()) return "\xE2\x80\x94";  // —
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    *numeric = true;
    const double v = value.get<double>();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }
  if (value.is_number()) *numeric = true;
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string table_html(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                       const std::vector<std::vector<bool>>& numeric, const std::string& caption) {
  std::string out = "<table>\n";
  if (!caption.empty()) out += "<caption>" + html_escape(caption) + "</caption>\n";
  if (!header.empty()) {
    out += "<thead><tr>";
    for (const auto& h : header) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr></thead>\n";
  }
  out += "<tbody>\n";
  const std::size_t width = header.size();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out += "<tr>";
    const std::size_t cells = std::max(width, rows[r].size());
    for (std::size_t c = 0; c < cells; ++c) {
      const bool num = r < numeric.size() && c < numeric[r].size() && numeric[r][c];
      out += num ? "<td class=\"num\">" : "<td>";
      if (c < rows[r].size()) out += html_escape(rows[r][c]);
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  const std::string clean = utf8_sanitize(text);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string command_line_quote(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) {
    if (!out.empty()) out += ' ';
    const bool bare = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789_-+=.,/:@%") == std::string::npos;
    if (bare) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'') out += "'\\''";
      else out += c;
    }
    out += '\'';
  }
  return out;
}

HtmlReport::HtmlReport(std::string title) : title_(std::move(title)) {}

void HtmlReport::set_command_line(std::string command) { command_line_ = std::move(command); }

void HtmlReport::add_section(const std::string& heading) {
  Section s{"section-" + std::to_string(sections_.size() + 1), heading};
  body_ += "<h2 id=\"" + s.id + "\">" + html_escape(heading) + "</h2>\n";
  sections_.push_back(std::move(s));
}

void HtmlReport::add_paragraph(const std::string& text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }

void HtmlReport::add_preformatted(const std::string& text) { body_ += "<pre>" + html_escape(text) + "</pre>\n"; }

void HtmlReport::add_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                           const std::string& caption) {
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (!header.empty() && rows[r].size() > header.size()) {
      throw Error("report table row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) +
                  " cells for " + std::to_string(header.size()) + " columns");
    }
  }
  body_ += table_html(header, rows, {}, caption);
}

void HtmlReport::add_table(const nlohmann::json& table, const std::string& caption) {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<bool>> numeric;
  const auto add_row = [&](const std::vector<const nlohmann::json*>& cells) {
    rows.emplace_back();
    numeric.emplace_back();
    for (const nlohmann::json* cell : cells) {
      bool num = false;
      rows.back().push_back(cell ? json_cell(*cell, &num) : "");
      numeric.back().push_back(num);
    }
  };
  const bool array_of_objects =
      table.is_array() && !table.empty() &&
      std::all_of(table.begin(), table.end(), [](const nlohmann::json& v) { return v.is_object(); });
  if (array_of_objects) {
    for (const auto& row : table) {
      for (const auto& item : row.items()) {
        if (std::find(header.begin(), header.end(), item.key()) == header.end()) header.push_back(item.key());
      }
    }
    for (const auto& row : table) {
      std::vector<const nlohmann::json*> cells;
      for (const auto& key : header) cells.push_back(row.contains(key) ? &row.at(key) : nullptr);
      add_row(cells);
    }
  } else if (table.is_object()) {
    header = {"key", "value"};
    for (const auto& item : table.items()) {
      rows.push_back({item.key()});
      numeric.push_back({false});
      bool num = false;
      rows.back().push_back(json_cell(item.value(), &num));
      numeric.back().push_back(num);
    }
  } else if (table.is_array()) {
    for (const auto& row : table) {
      std::vector<const nlohmann::json*> cells;
      if (row.is_array()) {
        for (const auto& cell : row) cells.push_back(&cell);
      } else {
        cells.push_back(&row);
      }
      add_row(cells);
    }
  } else {
    add_row({&table});
  }
  body_ += table_html(header, rows, numeric, caption);
}

void HtmlReport::add_figure(const std::filesystem::path& image, const std::string& caption) {
  ImageFormat format;
  try {
    format = image_format_from_name(image.extension().string());
  } catch (const Error&) {
    throw Error("cannot embed '" + image.string() + "' in the report: only .png, .svg and .pdf figures are supported");
  }
  std::string bytes;
  std::FILE* f = std::fopen(image.c_str(), "rb");
  if (!f) throw Error("cannot read figure '" + image.string() + "' for the report");
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw Error("cannot read figure '" + image.string() + "' for the report");
  add_figure(bytes, format, caption);
}

void HtmlReport::add_figure(const std::string& bytes, ImageFormat format, const std::string& caption) {
  const std::string uri = "data:" + std::string(image_format_mime_type(format)) + ";base64," + base64_encode(bytes);
  ++figure_count_;
  body_ += "<figure>\n";
  if (format == ImageFormat::PDF) {
    body_ += "<p><a download=\"figure-" + std::to_string(figure_count_) + ".pdf\" href=\"" + uri +
             "\">Download the PDF figure</a></p>\n";
  } else {
    body_ += "<img src=\"" + uri + "\" alt=\"" + html_escape(caption.empty() ? "figure" : caption) + "\">\n";
  }
  if (!caption.empty()) body_ += "<figcaption>" + html_escape(caption) + "</figcaption>\n";
  body_ += "</figure>\n";
}

void HtmlReport::add_json(const std::string& summary, const nlohmann::json& value) {
  body_ += "<details>\n<summary>" + html_escape(summary) + "</summary>\n<pre>" +
           html_escape(value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "</pre>\n</details>\n";
}

std::string HtmlReport::html() const {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"" + std::string(kContentSecurityPolicy) + "\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"optipfair\">\n";
  out += "<title>" + html_escape(title_) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(title_) + "</h1>\n";
  if (!command_line_.empty()) {
    out += "<div class=\"command\">Regenerate this report with:<br><code>" + html_escape(command_line_) +
           "</code></div>\n";
  }
  if (sections_.size() >= 2) {
    out += "<nav>\n<ol>\n";
    for (const auto& s : sections_) out += "<li><a href=\"#" + s.id + "\">" + html_escape(s.heading) + "</a></li>\n";
    out += "</ol>\n</nav>\n";
  }
  out += body_;
  out += "</body>\n</html>\n";
  return out;
}

void HtmlReport::write(const std::filesystem::path& path) const { detail::bytes_write(html(), path); }

}  // namespace optipfair
