// The sweep (pipeline/sweep.h): fold splitting, the grid, the random baseline's sizes, zero against
// remove, resuming a killed sweep, workers against a single one, the summary and its refusals.
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bias/fairness_pruner.h"
#include "io/load_model.h"
#include "model/forward.h"
#include "pipeline/sweep.h"
#include "pipeline/sweep_journal.h"
#include "pipeline/sweep_report.h"
#include "pipeline/sweep_summary.h"
#include "browser_check.h"
#include "test_support.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace optipfair {
namespace {

struct Loaded {
  Model model;
  std::unique_ptr<Tokenizer> tokenizer;
};

const Loaded& demo() {
  static const Loaded s = [] { return Loaded{load_model(OPTIPFAIR_DEMO_MODEL), load_tokenizer(OPTIPFAIR_DEMO_MODEL)}; }();
  return s;
}

std::vector<PromptPair> labelled_pairs(const std::vector<std::pair<std::string, int>>& categories) {
  std::vector<PromptPair> out;
  for (const auto& [category, n] : categories)
    for (int i = 0; i < n; ++i)
      out.push_back({"The " + category + " person " + std::to_string(i) + " said that she",
                     "The " + category + " person " + std::to_string(i) + " said that he", category});
  return out;
}

// Two pairs of each of the first four default categories: small enough for many sweeps in a test.
std::vector<PromptPair> small_pairs() {
  std::vector<PromptPair> out;
  std::map<std::string, int> taken;
  for (const PromptPair& p : default_prompt_pairs()) {
    if (!taken.count(p.category) && taken.size() == 4) continue;
    if (taken[p.category] < 2) {
      ++taken[p.category];
      out.push_back(p);
    }
  }
  return out;
}

// A few sentences of capability text: the sweep measures its perplexity on every configuration.
std::filesystem::path write_text(const test::ScratchDir& dir) {
  const auto path = dir / "text.txt";
  std::ofstream(path) << "The old house stood at the end of the road. Every morning the baker opened his shop and "
                         "the children walked to school past the river.<|endoftext|>In the evening the town was quiet.";
  return path;
}

SweepOptions small_sweep(const test::ScratchDir& dir) {
  SweepOptions o;
  o.pairs = small_pairs();
  o.folds = 2;
  o.grid.methods = {SweepMethod::Hybrid, SweepMethod::Random};
  o.grid.percentages = {20};
  o.grid.random_seeds = 2;
  o.perplexity_text = write_text(dir);
  o.model_name = "demo";
  return o;
}

// Bias scores spread over [0, 100] with no order to them, so plans differ by method.
NeuronBiasScores scattered_scores(const Model& m) {
  NeuronBiasScores scores;
  for (const LayerWeights& l : m.layers) {
    std::vector<float> s(static_cast<size_t>(l.intermediate_size()));
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>((i * 7919) % 101);
    scores.per_layer.push_back(s);
  }
  return scores;
}

// A row as JSON without its timing, for comparing runs.
nlohmann::ordered_json row_figures(const SweepRow& r) {
  nlohmann::ordered_json j = sweep_row_json(r);
  j.erase("seconds");
  return j;
}

TEST(SweepFolds, StratifiedSeededDisjointAndCovering) {
  const auto pairs = labelled_pairs({{"race", 5}, {"gender", 7}, {"age", 3}});
  const std::vector<Fold> folds = stratified_folds(pairs, 3, 7);
  ASSERT_EQ(folds.size(), 3u);
  std::multiset<size_t> held;
  for (const Fold& f : folds) {
    std::set<std::string> categories;
    for (size_t i : f.held_out) categories.insert(pairs[i].category);
    EXPECT_EQ(categories.size(), 3u) << "every fold holds every category";
    EXPECT_EQ(f.train.size() + f.held_out.size(), pairs.size());
    for (size_t i : f.held_out) EXPECT_EQ(std::count(f.train.begin(), f.train.end(), i), 0) << "train and held-out overlap";
    held.insert(f.held_out.begin(), f.held_out.end());
    EXPECT_GE(f.held_out.size(), 4u);  // 15 pairs dealt evenly: 5 each
    EXPECT_LE(f.held_out.size(), 6u);
  }
  EXPECT_EQ(held.size(), pairs.size());
  EXPECT_EQ(std::set<size_t>(held.begin(), held.end()).size(), pairs.size()) << "each pair held out exactly once";

  const std::vector<Fold> again = stratified_folds(pairs, 3, 7);
  const std::vector<Fold> other = stratified_folds(pairs, 3, 8);
  bool differs = false;
  for (size_t f = 0; f < 3; ++f) {
    EXPECT_EQ(again[f].held_out, folds[f].held_out) << "same seed, same split";
    differs = differs || other[f].held_out != folds[f].held_out;
  }
  EXPECT_TRUE(differs) << "another seed should shuffle differently";
}

TEST(SweepFolds, RefusesAFoldWithoutSomeCategory) {
  const auto pairs = labelled_pairs({{"race", 5}, {"religion", 2}});
  try {
    stratified_folds(pairs, 3, 1);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("religion"), std::string::npos) << e.what();
  }
  EXPECT_THROW(stratified_folds(pairs, 1, 1), Error);
  SweepOptions o;
  o.pairs = pairs;
  EXPECT_EQ(sweep_fold_count(o), 2) << "the default follows the smallest category";
  o.pairs = labelled_pairs({{"race", 9}, {"age", 8}});
  EXPECT_EQ(sweep_fold_count(o), 5);
}

TEST(SweepGrid, ExpandsEveryCombinationOnce) {
  SweepGrid g;
  g.methods = {SweepMethod::Hybrid, SweepMethod::Importance, SweepMethod::Random, SweepMethod::Hybrid};
  g.bias_weights = {0.3, 0.7};
  g.percentages = {1, 5, 5};
  g.layer_sets = {"all", "last-quarter"};
  g.modes = {PruneMode::Remove, PruneMode::Zero};
  g.random_seeds = 3;
  const auto configs = sweep_grid_expand(g, 8);
  // (2 weights + 1 + 3 seeds) x 2 percentages x 2 layer sets x 2 modes
  EXPECT_EQ(configs.size(), 6u * 2 * 2 * 2);
  std::set<std::string> keys;
  for (const SweepConfig& c : configs) keys.insert(c.key());
  EXPECT_EQ(keys.size(), configs.size());
  EXPECT_TRUE(keys.count("hybrid w=0.3 p=5 layers=last-quarter mode=zero"));
  EXPECT_TRUE(keys.count("random p=1 layers=all mode=remove seed=3"));
  EXPECT_EQ(layer_set_from_spec("last-quarter", 8).layers, (std::vector<int>{6, 7}));
  EXPECT_EQ(layer_set_from_spec("1,3-4", 8).layers, (std::vector<int>{1, 3, 4}));
  EXPECT_THROW(layer_set_from_spec("9", 8), Error);
  EXPECT_THROW(layer_set_from_spec("middle", 8), Error);
  g.bias_weights = {1.5};
  EXPECT_THROW(sweep_grid_expand(g, 8), Error);
  EXPECT_THROW(sweep_grid_expand(SweepGrid{{}, {0.5}, {1}, {"all"}, {PruneMode::Remove}, 1}, 8), Error);
}

TEST(SweepGrid, ParsesPercentageListsAndRanges) {
  EXPECT_EQ(parse_percentages("1, 2,5"), (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(parse_percentages("0:1:0.25"), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(parse_percentages("0:1:0.1").size(), 11u);
  EXPECT_THROW(parse_percentages("1:5:0"), Error);
  EXPECT_THROW(parse_percentages("100"), Error);
  EXPECT_THROW(parse_percentages("five"), Error);
  EXPECT_THROW(parse_percentages(""), Error);
}

// The random baseline removes as many neurons from each layer as the method it shadows.
TEST(SweepPlans, RandomAndImportanceCutTheSameCountPerLayer) {
  const Model& m = demo().model;
  const FairnessPruner pruner(m, scattered_scores(m));
  const LayerSet set = layer_set_from_spec("2-4", static_cast<int>(m.layers.size()));
  const SweepConfig hybrid{SweepMethod::Hybrid, 0.5, 12.5, set, PruneMode::Remove, 0};
  const PruningPlan h = sweep_config_plan(m, hybrid, pruner);
  for (SweepMethod method : {SweepMethod::Bias, SweepMethod::Importance, SweepMethod::Random}) {
    SweepConfig c = hybrid;
    c.method = method;
    c.seed = method == SweepMethod::Random ? 4 : 0;
    const PruningPlan p = sweep_config_plan(m, c, pruner);
    for (size_t l = 0; l < h.layers.size(); ++l)
      EXPECT_EQ(p.layers[l].new_size, h.layers[l].new_size) << sweep_method_name(method) << " layer " << l;
  }
  SweepConfig r1 = hybrid, r2 = hybrid;
  r1.method = r2.method = SweepMethod::Random;
  r1.seed = 1;
  r2.seed = 2;
  EXPECT_NE(sweep_config_plan(m, r1, pruner).layers[3].kept, sweep_config_plan(m, r2, pruner).layers[3].kept);
  EXPECT_EQ(sweep_config_plan(m, r1, pruner).layers[3].kept, sweep_config_plan(m, r1, pruner).layers[3].kept);
  EXPECT_EQ(h.layers[0].new_size, m.layers[0].intermediate_size()) << "layers outside the set are kept whole";
}

// A zeroed neuron contributes nothing: the zeroed model's logits equal the narrower model's, and so
// do the bias figures of the components after the MLP's projections. (gate_proj and up_proj keep
// their width when zeroed, so their mean |a1 - a2| is averaged over the zeroed units too, and the
// overall mean_difference is lower in zero mode; docs/sweep.md says so.)
TEST(Sweep, ZeroModeEqualsRemoveModeInOutputs) {
  const Model& m = demo().model;
  const FairnessPruner pruner(m, scattered_scores(m));
  const SweepConfig c{SweepMethod::Hybrid, 0.5, 20, LayerSet{"all", {}}, PruneMode::Remove, 0};
  const PruningPlan plan = sweep_config_plan(m, c, pruner);
  const Model removed = apply_pruning_plan(m, plan, PruneMode::Remove);
  const Model zeroed = apply_pruning_plan(m, plan, PruneMode::Zero);
  ASSERT_LT(removed.layers[0].intermediate_size(), zeroed.layers[0].intermediate_size());
  const std::vector<int32_t> ids = demo().tokenizer->encode("The nurse said that he would come back tomorrow");
  const std::vector<float> a = forward_tokens(removed, ids, nullptr, Precision::Exact);
  const std::vector<float> b = forward_tokens(zeroed, ids, nullptr, Precision::Exact);
  const std::vector<float> original = forward_tokens(m, ids, nullptr, Precision::Exact);
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0, moved = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(a[i])));
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
    moved = std::max(moved, static_cast<double>(std::fabs(a[i] - original[i])));
  }
  // float32 sums over 614 and over 768 terms (154 of them zero) round differently: 1e-6 relative.
  EXPECT_LE(max_diff, 1e-6 * scale);
  EXPECT_GT(moved, 1e-3) << "a 20 % cut should change the logits";

  const test::ScratchDir dir;
  SweepOptions o = small_sweep(dir);
  o.grid.methods = {SweepMethod::Hybrid};
  o.grid.percentages = {20};
  o.grid.modes = {PruneMode::Remove, PruneMode::Zero};
  const SweepResult r = run_sweep(m, *demo().tokenizer, o);
  ASSERT_EQ(r.rows.size(), 4u);
  for (int f = 0; f < 2; ++f) {
    const SweepRow& rm = r.rows[static_cast<size_t>(f)];
    const SweepRow& zr = r.rows[static_cast<size_t>(2 + f)];
    ASSERT_EQ(zr.config.mode, PruneMode::Zero);
    EXPECT_EQ(zr.parameters_removed, rm.parameters_removed);
    // Perplexity is scored with bf16-rounded activations (Precision::Fast), whose rounding
    // follows the matrix widths: equal to that precision, not to the last bit.
    EXPECT_NEAR(*zr.perplexity_after, *rm.perplexity_after, 1e-3 * *rm.perplexity_after);
    EXPECT_LT(zr.used_after, rm.used_after) << "zeroed units dilute the gate/up means";
  }
}

// Kill a sweep after three rows and a half-written fourth; the re-run completes it with the same
// figures an uninterrupted run gives. With two workers the figures are the same again.
TEST(Sweep, ResumesAKilledSweepToTheUninterruptedResult) {
  const test::ScratchDir dir;
  const SweepOptions base = small_sweep(dir);
  const SweepResult whole = run_sweep(demo().model, *demo().tokenizer, base);
  ASSERT_EQ(whole.rows.size(), 3u * 2);  // (hybrid + 2 random seeds) x 2 folds
  SweepOptions o = base;
  o.journal = dir.path() / "sweep.jsonl";
  o.on_row = [](size_t done) {
    if (done == 3) throw std::runtime_error("killed");
  };
  EXPECT_THROW(run_sweep(demo().model, *demo().tokenizer, o), std::runtime_error);
  {
    std::ofstream tail(o.journal, std::ios::app);
    tail << "{\"config\": \"random p=20 lay";  // cut off mid-line, as a kill would
  }
  o.on_row = nullptr;
  const SweepResult resumed = run_sweep(demo().model, *demo().tokenizer, o);
  EXPECT_EQ(resumed.resumed, 3u);
  ASSERT_EQ(resumed.rows.size(), whole.rows.size());
  for (size_t i = 0; i < whole.rows.size(); ++i)
    EXPECT_EQ(row_figures(resumed.rows[i]), row_figures(whole.rows[i])) << i;

  const SweepResult again = run_sweep(demo().model, *demo().tokenizer, o);
  EXPECT_EQ(again.resumed, whole.rows.size()) << "nothing left to measure";

  SweepOptions parallel = base;
  parallel.jobs = 2;
  const SweepResult p = run_sweep(demo().model, *demo().tokenizer, parallel);
  ASSERT_EQ(p.rows.size(), whole.rows.size());
  for (size_t i = 0; i < whole.rows.size(); ++i) EXPECT_EQ(row_figures(p.rows[i]), row_figures(whole.rows[i])) << i;

  SweepOptions other = base;
  other.journal = o.journal;
  other.seed = 99;
  EXPECT_THROW(run_sweep(demo().model, *demo().tokenizer, other), Error) << "another split must not mix in";
}

TEST(Sweep, RefusesBadSettingsBeforeMeasuring) {
  const test::ScratchDir dir;
  SweepOptions o = small_sweep(dir);
  o.folds = 3;  // two pairs per category
  EXPECT_THROW(sweep_validate(demo().model, o), Error);
  o = small_sweep(dir);
  o.grid.layer_sets = {"40-41"};
  EXPECT_THROW(sweep_validate(demo().model, o), Error);
  o = small_sweep(dir);
  o.perplexity_text = "/nonexistent/text.txt";
  EXPECT_THROW(sweep_validate(demo().model, o), Error);
  o = small_sweep(dir);
  o.pairs.push_back({"same", "same", "race"});
  EXPECT_THROW(sweep_validate(demo().model, o), Error);
  EXPECT_THROW(sweep_target_parse("accuracy>=95"), Error);
  EXPECT_THROW(sweep_target_parse("capability=>95"), Error);
  EXPECT_THROW(sweep_target_parse("capability>="), Error);
  const SweepTarget t = sweep_target_parse(" capability >= 95.5 ");
  EXPECT_EQ(t.metric, TargetMetric::Capability);
  EXPECT_EQ(t.op, TargetOp::AtLeast);
  EXPECT_EQ(t.value, 95.5);
}

SweepRow hand_row(SweepMethod method, double pct, int seed, int fold, double held_after, double ppl_after) {
  SweepRow r;
  r.config = {method, method == SweepMethod::Hybrid ? 0.5 : 0, pct, LayerSet{"all", {}}, PruneMode::Remove, seed};
  r.fold = fold;
  r.used_before = r.held_out_before = 1.0;
  r.used_after = held_after - 0.1;
  r.held_out_after = held_after;
  r.perplexity_before = 10;
  r.perplexity_after = ppl_after;
  r.parameters = 1000;
  r.parameters_removed = static_cast<int64_t>(pct * 10);
  return r;
}

// hybrid 5 %: 10 % less bias, capability 100/105*100 = 95.2; hybrid 10 %: 20 %, 10/12 = 83.3.
// random: no reduction on average (+-2 % by seed), capability as the hybrid of its size.
SweepResult hand_result() {
  SweepResult r;
  r.folds = 2;
  for (double pct : {5.0, 10.0}) {
    r.configs.push_back({SweepMethod::Hybrid, 0.5, pct, LayerSet{"all", {}}, PruneMode::Remove, 0});
    for (int s = 1; s <= 2; ++s) r.configs.push_back({SweepMethod::Random, 0, pct, LayerSet{"all", {}}, PruneMode::Remove, s});
  }
  for (int f = 0; f < 2; ++f) {
    r.rows.push_back(hand_row(SweepMethod::Hybrid, 5, 0, f, 0.9, 10.5));
    r.rows.push_back(hand_row(SweepMethod::Hybrid, 10, 0, f, 0.8, 12));
    for (int s = 1; s <= 2; ++s) {
      r.rows.push_back(hand_row(SweepMethod::Random, 5, s, f, s == 1 ? 1.02 : 0.98, 10.5));
      r.rows.push_back(hand_row(SweepMethod::Random, 10, s, f, 1.0, 12));
    }
  }
  return r;
}

TEST(SweepSummary, ParetoFrontTargetAndRandomComparison) {
  const SweepResult r = hand_result();
  const SweepSummary s = sweep_summarize(r, sweep_target_parse("capability>=95"));
  ASSERT_EQ(s.points.size(), 4u);  // random seeds pooled
  EXPECT_EQ(s.points[1].rows, 4);
  EXPECT_NEAR(s.points[1].held_out_reduction.mean, 0, 1e-9);
  EXPECT_NEAR(s.points[1].held_out_reduction.sd, std::sqrt(4 * 4.0 / 3), 1e-9);  // +-2 % around 0, n = 4
  EXPECT_TRUE(s.points[0].pareto);
  EXPECT_TRUE(s.points[2].pareto);
  EXPECT_FALSE(s.points[1].pareto);
  EXPECT_FALSE(s.points[3].pareto);
  ASSERT_TRUE(s.best.has_value());
  EXPECT_EQ(*s.best, 0u);
  EXPECT_EQ(*s.best_fairness, 0u);
  EXPECT_NE(s.answer.find("hybrid w=0.5 p=5"), std::string::npos) << s.answer;
  EXPECT_NE(s.answer.find("Random pruning of the same size"), std::string::npos) << s.answer;
  const SweepSummary none = sweep_summarize(r, sweep_target_parse("capability>=99"));
  EXPECT_FALSE(none.best.has_value());
  EXPECT_EQ(none.answer, "No configuration meets capability>=99.");
  const std::string csv = sweep_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 12);
}

// The report as a reader opens it: in Chromium, offline, no console errors, the trade-off plot
// first and every figure decoded.
TEST(SweepReport, OpensOnTheTradeOffPlotInChromium) {
  if (!std::filesystem::exists(test::chromium_path()))
    GTEST_SKIP() << "Chromium not found at " << test::chromium_path() << " (scripts/install-deps.sh installs it)";
  const test::ScratchDir dir;
  const SweepResult r = hand_result();
  SweepReportInfo info;
  info.model_name = "hand-made <rows>";
  info.settings = "two folds";
  const auto report = write_sweep_report(r, sweep_summarize(r, sweep_target_parse("capability>=95")), dir / "out", info);
  for (const char* f : {"sweep.csv", "sweep_summary.json", "tradeoff.png", "categories.png"})
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / f)) << f;
  std::ifstream in(report);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const test::BrowserResult b = test::browser_load(test::with_image_probe(html, dir / "probed.html"), dir, "sweep");
  ASSERT_EQ(b.status, 0) << b.log;
  EXPECT_EQ(test::console_lines(b.log), "");
  EXPECT_NE(b.dom.find("data-figures=\"2/2\""), std::string::npos) << "not every figure decoded";
  const size_t heading = b.dom.find(">Trade-off</h2>"), first_img = b.dom.find("<img");
  ASSERT_NE(heading, std::string::npos);
  EXPECT_LT(heading, first_img) << "the first figure is the trade-off plot";
  EXPECT_LT(b.dom.find("Best held-out bias reduction meeting capability&gt;=95"), first_img);
  EXPECT_NE(b.dom.find("hand-made &lt;rows&gt;"), std::string::npos);
}

}  // namespace
}  // namespace optipfair

namespace optipfair {
namespace {

// A journal line is a file a user may edit or a disk may damage: a number that does not fit the
// integer it fills is refused (nlohmann's get<int> would cast it, undefined behaviour).
TEST(SweepJournalHostile, OutOfRangeIntegersAreRefused) {
  SweepRow row;
  row.config.method = SweepMethod::Random;
  row.config.percentage = 10;
  row.config.layers = layer_set_from_spec("all", 4);
  row.config.seed = 3;
  const nlohmann::json good = sweep_row_json(row);
  EXPECT_EQ(sweep_row_from_json(good, 4).config.key(), row.config.key());
  for (const char* key : {"seed", "fold", "train_pairs", "parameters"}) {
    for (const nlohmann::json& bad : {nlohmann::json(1e30), nlohmann::json(2.5), nlohmann::json(-1e300),
                                      nlohmann::json(18446744073709551615ull), nlohmann::json("3")}) {
      nlohmann::json j = good;
      j[key] = bad;
      EXPECT_THROW(sweep_row_from_json(j, 4), Error) << key << " = " << bad.dump();
    }
  }
}

}  // namespace
}  // namespace optipfair
