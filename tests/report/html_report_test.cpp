#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "html_check.h"
#include "report/html_report.h"
#include "report/plot.h"
#include "report_test_support.h"
#include "test_support.h"
#include "util/error.h"

namespace optipfair {
namespace {

const std::string kAttack = "<script>alert('x')</script> & \"quotes\" <img src=x onerror=alert(1)>";

HtmlReport example_report(const test::ScratchDir& scratch) {
  HtmlReport report("Bias analysis " + kAttack);
  report.set_command_line(command_line_quote({"optipfair", "bias", "--pair", "A Black man", kAttack}));
  report.add_section("Overall " + kAttack);
  report.add_paragraph("Mean difference 0.0339.\nSecond line " + kAttack);
  report.add_table({"layer", "mean", "prompt"}, {{"0", "0.01", kAttack}, {"1", "0.02"}}, "Per layer " + kAttack);
  report.add_section("Figures");
  report.add_figure(bar_chart_render(example_bar_chart(), ImageFormat::PNG), ImageFormat::PNG, "bars " + kAttack);
  const auto svg = scratch / "heatmap.svg";
  heatmap_write(example_heatmap(), svg, ImageFormat::SVG);
  report.add_figure(svg, "heatmap");
  report.add_figure(scatter_plot_render(example_scatter_plot(), ImageFormat::PDF), ImageFormat::PDF, "pca as pdf");
  report.add_section("Raw data");
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back({{"key", "attention_output_layer_0"}, {"mean", 0.0123456789}, {"n", 16}});
  rows.push_back({{"key", kAttack}, {"mean", std::numeric_limits<double>::quiet_NaN()}, {"extra", true}});
  report.add_table(rows, "from JSON");
  report.add_table(nlohmann::json{{"mean_difference", 0.0339}, {"pairs", nlohmann::json::array({1, 2})}});
  report.add_json("bias_metrics.json " + kAttack, nlohmann::json{{"prompt", kAttack}, {"bytes", "\xFF\xFE"}});
  return report;
}

TEST(HtmlReport, IsWellFormedAndEscapesUserText) {
  test::ScratchDir scratch;
  const std::string html = example_report(scratch).html();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html_balance_problem(html), "");
  EXPECT_EQ(count_of(html, "<script"), 0u) << "user text became markup";
  EXPECT_EQ(count_of(html, "<img src=x"), 0u);
  EXPECT_GE(count_of(html, "&lt;script&gt;"), 8u);
  EXPECT_NE(html.find("&#39;A Black man&#39;"), std::string::npos);  // the quoted command line
  EXPECT_NE(html.find("<details>"), std::string::npos);
  EXPECT_NE(html.find("<nav>"), std::string::npos);
}

TEST(HtmlReport, IsSelfContained) {
  test::ScratchDir scratch;
  const std::string html = example_report(scratch).html();
  EXPECT_EQ(count_of(html, "src=\"http"), 0u);
  EXPECT_EQ(count_of(html, "href=\"http"), 0u);
  EXPECT_EQ(count_of(html, "<link"), 0u);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(count_of(html, "<img src=\"data:image/png;base64,"), 1u);
  EXPECT_EQ(count_of(html, "<img src=\"data:image/svg+xml;base64,"), 1u);
  EXPECT_EQ(count_of(html, "href=\"data:application/pdf;base64,"), 1u);
}

TEST(HtmlReport, JsonTablesShowNumbersNullsAndUnionOfKeys) {
  HtmlReport report("t");
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back({{"a", 0.0123456789}, {"b", "x"}});
  rows.push_back({{"c", nullptr}});
  report.add_table(rows);
  const std::string html = report.html();
  EXPECT_NE(html.find("<th>a</th><th>b</th><th>c</th>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.0123457</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>\xE2\x80\x94</td>"), std::string::npos);
  EXPECT_EQ(html_balance_problem(html), "");
}

TEST(HtmlReport, BadFiguresAndPathsAreClearErrors) {
  test::ScratchDir scratch;
  HtmlReport report("t");
  EXPECT_THROW(report.add_figure(scratch / "absent.png", "x"), Error);
  EXPECT_THROW(report.add_figure(scratch / "figure.jpg", "x"), Error);
  EXPECT_THROW(report.add_table({"a"}, {{"1", "2"}}), Error);
  const auto path = scratch / "no_such_folder" / "report.html";
  try {
    report.write(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  report.write(scratch / "report.html");
  EXPECT_EQ(file_bytes(scratch / "report.html"), report.html());
  EXPECT_EQ(report.figure_count(), 0u);
}

TEST(HtmlEscape, EscapesMarkupAndRepairsUtf8) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("caf\xC3\xA9 \xFF"), "caf\xC3\xA9 \xEF\xBF\xBD");
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xFF\x00\xFE", 3)), "/wD+");
}

TEST(CommandLineQuote, RoundTripsThroughTheShell) {
  const std::vector<std::string> args = {"optipfair", "bias", "--pair", "A Black man", "it's", "", "$HOME", "a\"b"};
  const std::string line = command_line_quote(args);
  EXPECT_EQ(line, "optipfair bias --pair 'A Black man' 'it'\\''s' '' '$HOME' 'a\"b'");
  // The shell must hand back exactly the same words.
  std::string out;
  ASSERT_EQ(test::run_command("printf '%s\\n' " + line, &out), 0);
  EXPECT_EQ(out, "optipfair\nbias\n--pair\nA Black man\nit's\n\n$HOME\na\"b\n");
}

}  // namespace
}  // namespace optipfair
