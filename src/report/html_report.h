// A self-contained HTML report: one file that opens offline in any browser, with figures
// embedded as data URIs, tables, paragraphs, collapsible raw JSON and the command line that
// regenerates it. All text is escaped, so prompts and tokens can never inject markup.
//
//   HtmlReport report("Bias analysis: Llama-3.2-1B");
//   report.set_command_line(command_line_quote(args));
//   report.add_section("Overall");
//   report.add_paragraph("Mean difference 0.0339 over 16 layers.");
//   report.add_figure(dir / "mean_diff_mlp_output.png", "Mean difference per layer");
//   report.add_json("bias_metrics.json", metrics);
//   report.write(dir / "report.html");
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/image_format.h"

namespace optipfair {

class HtmlReport {
 public:
  explicit HtmlReport(std::string title);

  // Shown at the top under "Regenerate this report"; empty hides the box.
  void set_command_line(std::string command);

  // A new <h2> section, listed in the table of contents.
  void add_section(const std::string& heading);
  // A paragraph; '\n' in the text breaks the line.
  void add_paragraph(const std::string& text);
  // Preformatted text (prompts, token lists) in a monospace block.
  void add_preformatted(const std::string& text);

  // A table from strings; a row shorter than the header is padded, a longer one throws Error.
  void add_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::string& caption = "");
  // A table from JSON: an array of objects (columns: the union of their keys, in first-seen
  // order), an object (key/value rows) or an array of arrays. Numbers are shown with six
  // significant digits, null as "—", nested values as compact JSON.
  void add_table(const nlohmann::json& table, const std::string& caption = "");

  // Embeds an image file chosen by its extension (.png, .svg, .pdf). PNG and SVG are shown;
  // a PDF is attached as a download link, since browsers do not show PDF in <img>.
  // Throws Error when the file cannot be read or has another extension.
  void add_figure(const std::filesystem::path& image, const std::string& caption);
  // The same from bytes in memory (e.g. from bar_chart_render).
  void add_figure(const std::string& bytes, ImageFormat format, const std::string& caption);

  // A collapsed block with the JSON pretty-printed (invalid UTF-8 replaced, never a failure).
  void add_json(const std::string& summary, const nlohmann::json& value);

  std::size_t figure_count() const { return figure_count_; }

  // The whole document.
  std::string html() const;
  // Writes html() to `path`; throws Error naming the path when it cannot.
  void write(const std::filesystem::path& path) const;

 private:
  struct Section {
    std::string id;
    std::string heading;
  };
  std::string title_;
  std::string command_line_;
  std::vector<Section> sections_;
  std::string body_;
  std::size_t figure_count_ = 0;
};

// Text safe inside HTML elements and attribute values: & < > " ' escaped, UTF-8 sanitized.
std::string html_escape(std::string_view text);

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

// A POSIX shell command line that reproduces `args` exactly: plain words stay bare, others are
// single-quoted.
std::string command_line_quote(const std::vector<std::string>& args);

}  // namespace optipfair
