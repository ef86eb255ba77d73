// Figures and report.html: valid PNG/SVG/PDF files of sensible size, drawn from one capture (the
// whole analysis of N pairs with every plot runs exactly 2N sequences through the model).
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "bias/bias_analysis.h"
#include "bias/bias_plots.h"
#include "bias/bias_report.h"
#include "io/load_model.h"
#include "model/forward.h"
#include "test_support.h"

namespace optipfair {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool valid_image(const std::filesystem::path& p) {
  const std::string s = slurp(p);
  if (s.size() < 1000) return false;
  const std::string ext = p.extension().string();
  if (ext == ".png") return s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && s.find("IEND") != std::string::npos;
  if (ext == ".svg") return s.find("<svg") != std::string::npos && s.find("</svg>") != std::string::npos;
  if (ext == ".pdf") return s.compare(0, 5, "%PDF-") == 0 && s.find("%%EOF") != std::string::npos;
  return false;
}

struct Fixture {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Fixture& fx() {
  static Fixture f = [] {
    Fixture x;
    const auto dir = test::shared_path("models/stories260K-hf");
    x.model = load_model(dir.string());
    x.tokenizer = load_tokenizer(dir);
    return x;
  }();
  return f;
}

const std::vector<PromptPair> kPairs = {
    {"Lily went to the park. She", "Tom went to the park. He", "gender"},
    {"The little girl was happy because she", "The little boy was happy because he", "gender"},
    {"She is a nurse.", "He is a nurse.", "occupation"}};

class BiasPlots : public ::testing::TestWithParam<std::string> {};

TEST_P(BiasPlots, AllPlotsFromOneCaptureAreValidFiles) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"));
  test::ScratchDir dir;
  BiasOptions o;
  o.progress = false;
  o.plot_layers = "all";
  const uint64_t seq0 = forward_sequence_count();
  const BiasAnalysis a = analyze_bias(fx().model, *fx().tokenizer, kPairs, o);
  BiasPlotOptions po;
  po.format = image_format_from_name(GetParam());
  const auto files = write_bias_plots(a, dir.path(), po);
  write_bias_report(a, files, dir / "report.html", {"stories260K", "optipfair bias --model-path stories260K"});
  // Every figure and the report came from the 2N prompts already run.
  EXPECT_EQ(forward_sequence_count() - seq0, 2 * kPairs.size());
  // 4 all-pairs bars + per pair: 4 bars, 5 layers x (4 heatmaps + 2 PCA).
  EXPECT_EQ(files.size(), 4u + kPairs.size() * (4 + 5 * 6));
  for (const PlotFile& f : files) EXPECT_TRUE(valid_image(f.path)) << f.path;
  EXPECT_TRUE(std::filesystem::exists(dir / "heatmap_gate_proj_0_pair0" += "." + GetParam()));
  EXPECT_TRUE(std::filesystem::exists(dir / "pca_mlp_output_4_pair2" += "." + GetParam()));
  const std::string html = slurp(dir / "report.html");
  EXPECT_NE(html.find("optipfair bias --model-path stories260K"), std::string::npos);
  EXPECT_NE(html.find("Tom went to the park. He"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // self-contained
}

INSTANTIATE_TEST_SUITE_P(Formats, BiasPlots, ::testing::Values("png", "svg", "pdf"));

TEST(BiasPlotsCharts, HeatmapPcaAndComparisonContent) {
  OPTIPFAIR_REQUIRE_SHARED(test::shared_path("models/stories260K-hf/model.safetensors"));
  BiasOptions o;
  o.progress = false;
  const BiasAnalysis a = analyze_bias(fx().model, *fx().tokenizer, kPairs, o);
  const Heatmap h = difference_heatmap(a.pairs[2], 2, "gate_proj_layer_0", 16);
  EXPECT_EQ(h.rows, a.pairs[2].ids1.size());
  EXPECT_EQ(h.cols, 16u);
  EXPECT_EQ(h.row_labels.size(), h.rows);
  EXPECT_NE(h.row_labels[1].find("/"), std::string::npos);  // "She/He"
  // Columns sorted by mean |difference|, most divergent first.
  double c0 = 0, c15 = 0;
  for (size_t r = 0; r < h.rows; ++r) {
    c0 += h.values[r * h.cols];
    c15 += h.values[r * h.cols + 15];
  }
  EXPECT_GE(c0, c15);
  const ScatterPlot s = token_pca_plot(a.pairs[0], 0, "mlp_output_layer_2");
  ASSERT_EQ(s.series.size(), 2u);
  EXPECT_EQ(s.series[0].points.size(), 11u);
  EXPECT_EQ(s.series[1].points.size(), 12u);
  EXPECT_TRUE(s.series[0].points[1].highlighted);    // "Lily"
  EXPECT_FALSE(s.series[0].points[3].highlighted);   // " to" (matched)
  EXPECT_NE(s.text.x_label.find("PC1"), std::string::npos);
  const BarChart c = bias_comparison_chart(a, a, Component::MlpOutput, "original", "pruned");
  ASSERT_EQ(c.series.size(), 2u);
  EXPECT_EQ(c.categories.size(), 5u);
  EXPECT_EQ(c.series[0].values, c.series[1].values);
  test::ScratchDir dir;
  const auto files = write_bias_comparison(a, a, dir.path(), ImageFormat::SVG, "original", "pruned");
  EXPECT_EQ(files.size(), 6u);
  for (const auto& f : files) EXPECT_TRUE(valid_image(f.path)) << f.path;
}

}  // namespace
}  // namespace optipfair
