// `optipfair serve` as a user meets it: Debian's headless Chromium opens the page, picks the demo
// model, runs an analysis of the police pair, waits for the three figures, reads the overall mean
// difference off the page (equal to `optipfair bias` on the same pair), then runs a 10 % fairness
// prune and waits for the original's and the pruned model's continuations. Screenshots of both
// land in artifacts/ beside the test binary.
#include <cmath>
#include <fstream>

#include "browser_check.h"
#include "devtools_pipe.h"
#include "serve_fixture.h"
#include "util/resources.h"

namespace optipfair::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kPrompt1 = "A Black man walked at night through the neighborhood. The police officer thought he";
const std::string kPrompt2 = "A white man walked at night through the neighborhood. The police officer thought he";

std::string js_string(const std::string& s) { return json(s).dump(); }

void set_value(DevToolsPage& page, const std::string& id, const std::string& value) {
  page.evaluate("(() => { const e = document.getElementById(" + js_string(id) + "); e.value = " + js_string(value) +
                "; e.dispatchEvent(new Event('change')); e.dispatchEvent(new Event('input')); })()");
}

void click(DevToolsPage& page, const std::string& selector) {
  page.evaluate("document.querySelector(" + js_string(selector) + ").click()");
}

void save_screenshot(DevToolsPage& page, const std::string& name) {
  const fs::path dir = fs::current_path() / "artifacts";
  fs::create_directories(dir);
  const std::string png = page.screenshot();
  EXPECT_EQ(png.substr(1, 3), "PNG");
  std::ofstream(dir / name, std::ios::binary) << png;
}

// What went wrong on the page, for a failure message.
std::string page_state(DevToolsPage& page) {
  return page.evaluate(
                 "JSON.stringify({error: document.getElementById('error').textContent,"
                 " analyze: document.getElementById('analyze-progress').textContent,"
                 " prune: document.getElementById('prune-progress').textContent,"
                 " figures: [...document.querySelectorAll('figure')].map(f => f.id + ':' + f.dataset.state + ':' + f.textContent.slice(0, 200))})")
      .dump();
}

double cli_mean_difference(const ScratchDir& scratch) {
  const fs::path out = scratch / "cli_bias";
  std::string log;
  const std::string command = cli_path() + " bias --model-path '" + bundled_demo_model().string() + "' --pair '" + kPrompt1 +
                              "' '" + kPrompt2 + "' --plots none --no-report -o '" + out.string() + "'";
  EXPECT_EQ(run_command(command, &log), 0) << log;
  std::ifstream in(out / "bias_metrics.json");
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "optipfair bias wrote no bias_metrics.json: " << log;
    return std::nan("");
  }
  return j["pair_1"]["metrics"]["overall_metrics"]["mean_difference"].get<double>();
}

class ServeBrowser : public ServeFixture {};

TEST_F(ServeBrowser, AnalyseAndFairPruneInARealBrowser) {
  if (!fs::exists(chromium_path())) GTEST_SKIP() << "no chromium at " << chromium_path();
  start();
  DevToolsPage page(chromium_path(), scratch_ / "profile", scratch_ / "chromium.log");
  page.navigate("http://127.0.0.1:" + std::to_string(port_) + "/");
  ASSERT_TRUE(page.wait_for("document.body && document.body.dataset.ready === 'true'", 30)) << page_state(page);

  set_value(page, "model", "demo");
  set_value(page, "prompt1", kPrompt1);
  set_value(page, "prompt2", kPrompt2);
  set_value(page, "more-pairs", "");
  click(page, "#analyze-run");
  const std::string figures_done =
      "['mean_diff', 'heatmap', 'pca'].every(n => document.getElementById('figure-' + n).dataset.state === 'loaded')";
  ASSERT_TRUE(page.wait_for(figures_done + " || document.getElementById('error').textContent", 120)) << page_state(page);
  ASSERT_TRUE(page.evaluate(figures_done).get<bool>()) << page_state(page);
  for (const std::string n : {"mean_diff", "heatmap", "pca"})
    EXPECT_GT(page.evaluate("document.querySelector('#figure-" + n + " img').naturalWidth").get<int>(), 100) << n;

  const std::string shown = page.evaluate("document.getElementById('metric-mean-difference').dataset.value").get<std::string>();
  EXPECT_DOUBLE_EQ(std::stod(shown), cli_mean_difference(scratch_));
  EXPECT_FALSE(page.evaluate("document.getElementById('top-neurons').textContent").get<std::string>().empty());
  // One shaded token per token of prompt 1: 17 with the demo's tokenizer, <|begin_of_text|> included.
  EXPECT_EQ(page.evaluate("document.querySelectorAll('#per-token .token').length").get<int>(), 17);
  save_screenshot(page, "serve_analysis.png");

  // Another layer and component draw new figures from the kept result.
  set_value(page, "component", "gate_proj");
  set_value(page, "layer", "1");
  ASSERT_TRUE(page.wait_for(figures_done, 60)) << page_state(page);

  click(page, "button[data-tab=prune]");
  set_value(page, "prune-percentage", "10");
  click(page, "#prune-run");
  const std::string pruned =
      "!document.getElementById('prune-results').hidden && document.getElementById('figure-comparison').dataset.state === 'loaded'";
  ASSERT_TRUE(page.wait_for(pruned + " || document.getElementById('error').textContent", 240)) << page_state(page);
  ASSERT_TRUE(page.evaluate(pruned).get<bool>()) << page_state(page);
  const json rows = page.evaluate(
      "[...document.querySelectorAll('#continuations tr')].slice(1).map(r => [...r.children].map(c => c.textContent))");
  ASSERT_GE(rows.size(), 4u);  // greedy and beam, for both prompts
  bool greedy = false, beam = false;
  for (const json& r : rows) {
    ASSERT_EQ(r.size(), 4u);
    EXPECT_FALSE(r[2].get<std::string>().empty());
    EXPECT_FALSE(r[3].get<std::string>().empty());
    greedy = greedy || r[1] == "greedy";
    beam = beam || r[1].get<std::string>().rfind("beam", 0) == 0;
  }
  EXPECT_TRUE(greedy && beam);
  EXPECT_NE(page.evaluate("document.getElementById('prune-headline').textContent").get<std::string>().find("bias"), std::string::npos);
  save_screenshot(page, "serve_fair_prune.png");
}

}  // namespace
}  // namespace optipfair::test
