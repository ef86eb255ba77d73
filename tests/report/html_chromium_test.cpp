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
#include "test_support.h"

namespace optipfair {
namespace {

std::string chromium_path() {
  const char* env = std::getenv("OPTIPFAIR_CHROMIUM");
  if (env && *env) return env;
  return "/usr/bin/chromium";
}

struct BrowserResult {
  int status = -1;
  std::string dom;
  std::string log;
};

// Loads `html_file` headless, offline-like (no background traffic), in a fresh profile.
BrowserResult browser_load(const std::filesystem::path& html_file, const test::ScratchDir& scratch,
                           const std::string& tag) {
  const auto dom = scratch / (tag + ".dom.html");
  const auto log = scratch / (tag + ".log");
  const auto profile = scratch / (tag + "-profile");
  const std::string command =
      "( timeout 120 " + chromium_path() +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --user-data-dir=" + profile.string() +
      " --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom 'file://" + html_file.string() + "' > '" +
      dom.string() + "' 2> '" + log.string() + "' )";
  BrowserResult result;
  std::string ignored;
  result.status = test::run_command(command, &ignored);
  result.dom = file_bytes(dom);
  result.log = file_bytes(log);
  return result;
}

// Console messages are logged as "...:CONSOLE:<line>] "message", source: ...".
std::string console_lines(const std::string& log) {
  std::string out;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos) out += line + "\n";
    start = end + 1;
  }
  return out;
}

// A copy of the report with a script (allowed by a relaxed policy) that records, after load,
// how many images decoded to a real size.
std::filesystem::path with_image_probe(const std::string& html, const std::filesystem::path& path) {
  std::string probed = html;
  const std::string policy = "default-src 'none';";
  const auto at = probed.find(policy);
  if (at != std::string::npos) probed.replace(at, policy.size(), "default-src 'none'; script-src 'unsafe-inline';");
  const std::string probe =
      "<script>window.addEventListener('load', () => { const imgs = [...document.images];"
      " document.body.setAttribute('data-figures', imgs.filter(i => i.complete && i.naturalWidth > 0).length"
      " + '/' + imgs.length); });</script>\n";
  probed.insert(probed.rfind("</body>"), probe);
  std::ofstream(path, std::ios::binary) << probed;
  return path;
}

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
