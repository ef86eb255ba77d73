// The report as a reader meets it: loaded by a real browser, offline, with no console errors
// and every figure decoded. Needs Debian's `chromium` (scripts/install-deps.sh installs it);
// skipped with a message where it is absent. OPTIPFAIR_CHROMIUM overrides the binary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "html_check.h"
#include "report/html_report.h"
#include "report/plot.h"
#include "report_test_support.h"
#include "browser_check.h"
#include "test_support.h"

namespace optipfair {
namespace {

using test::browser_load;
using test::BrowserResult;
using test::chromium_path;
using test::console_lines;
using test::with_image_probe;

TEST(HtmlReportInChromium, LoadsOfflineWithoutConsoleErrorsAndShowsEveryFigure) {
  if (!std::filesystem::exists(chromium_path())) {
    GTEST_SKIP() << "Chromium not found at " << chromium_path()
                 << ": install Debian's chromium (scripts/install-deps.sh) to check the report in a browser";
  }
  test::ScratchDir scratch;
  HtmlReport report("Bias analysis <script>alert(1)</script>");
  report.set_command_line("optipfair bias --output-dir out");
  report.add_section("Figures");
  report.add_paragraph("Text with <b>markup</b> that must stay text.");
  report.add_figure(bar_chart_render(example_bar_chart(), ImageFormat::PNG), ImageFormat::PNG, "bar png");
  report.add_figure(bar_chart_render(example_comparison_chart(), ImageFormat::SVG), ImageFormat::SVG, "bar svg");
  report.add_figure(line_chart_render(example_line_chart(), ImageFormat::SVG), ImageFormat::SVG, "line svg");
  report.add_figure(heatmap_render(example_heatmap(), ImageFormat::PNG), ImageFormat::PNG, "heatmap png");
  report.add_figure(heatmap_render(example_heatmap(), ImageFormat::SVG), ImageFormat::SVG, "heatmap svg");
  report.add_figure(scatter_plot_render(example_scatter_plot(), ImageFormat::SVG), ImageFormat::SVG, "pca svg");
  report.add_section("Data");
  report.add_table({"key", "value"}, {{"mean_difference", "0.0339"}});
  report.add_json("bias_metrics.json", nlohmann::json{{"mean_difference", 0.0339}});
  const auto path = scratch / "report.html";
  report.write(path);
  const std::size_t shown = 6;

  const BrowserResult plain = browser_load(path, scratch, "plain");
  ASSERT_EQ(plain.status, 0) << plain.log;
  EXPECT_EQ(console_lines(plain.log), "") << "the report logged to the console";
  EXPECT_EQ(count_of(plain.dom, "<img src=\"data:image/"), shown);
  EXPECT_NE(plain.dom.find("Bias analysis &lt;script&gt;"), std::string::npos);
  EXPECT_EQ(count_of(plain.dom, "<b>"), 0u);

  const BrowserResult probed = browser_load(with_image_probe(report.html(), scratch / "probed.html"), scratch, "probed");
  ASSERT_EQ(probed.status, 0) << probed.log;
  EXPECT_EQ(console_lines(probed.log), "");
  EXPECT_NE(probed.dom.find("data-figures=\"6/6\""), std::string::npos)
      << "not every figure decoded; body: " << probed.dom.substr(probed.dom.find("<body"), 200);

  // The probe must be able to fail: a figure that is not a PNG at all is reported as broken.
  HtmlReport broken("broken");
  broken.add_figure(std::string(2000, 'x'), ImageFormat::PNG, "not an image");
  broken.add_figure(bar_chart_render(example_bar_chart(), ImageFormat::PNG), ImageFormat::PNG, "good");
  const BrowserResult control = browser_load(with_image_probe(broken.html(), scratch / "broken.html"), scratch, "broken");
  EXPECT_NE(control.dom.find("data-figures=\"1/2\""), std::string::npos) << control.dom;
}

}  // namespace
}  // namespace optipfair
