// Plans, tie-breaking, divisors, depth selection and every refused plan, on small synthetic models.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/forward.h"
#include "model/param_count.h"
#include "model/synthetic.h"
#include "prune/apply.h"
#include "prune/depth.h"
#include "prune/plan.h"
#include "prune/prune_model.h"
#include "util/error.h"

namespace optipfair {
namespace {

Model tiny(DType t = DType::F32, int64_t layers = 0) { return make_synthetic_model("tiny", t, 7, layers); }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PrunePlan, TruncatesLikePython) {
  EXPECT_EQ(neurons_to_keep(172, 37.5), 108);  // 64.5 pruned -> 64
  EXPECT_EQ(neurons_to_keep(172, 10), 155);    // 17.2 -> 17
  EXPECT_EQ(neurons_to_keep(172, 0.2), 172);   // 0.344 -> nothing
  EXPECT_EQ(neurons_to_keep(172, 0), 172);
  EXPECT_EQ(neurons_to_keep(172, 99.99), 1);   // never all of them
  EXPECT_EQ(neurons_to_keep(8192, 20), 6554);  // 1638.4 -> 1638
}

TEST(PrunePlan, TiesKeepTheLowerIndex) {
  // Scores: index 1, 2, 4 tie at 5.0; keeping 3 takes the best (index 3, 7.0) then the two lowest
  // tied indices 1 and 2.
  const std::vector<float> s = {1.0f, 5.0f, 5.0f, 7.0f, 5.0f};
  EXPECT_EQ(select_top_neurons(s, 3), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(select_top_neurons(s, 2), (std::vector<int64_t>{1, 3}));
  const std::vector<float> all_equal(6, 0.5f);
  EXPECT_EQ(select_top_neurons(all_equal, 4), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(PrunePlan, NanRanksLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> s = {nan, 0.1f, nan, 0.2f};
  EXPECT_EQ(select_top_neurons(s, 2), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(select_top_neurons(s, 3), (std::vector<int64_t>{0, 1, 3}));
}

TEST(PrunePlan, TiesInRealScoresFollowTheRule) {
  // A BF16 model whose layer 0 has exactly tied MAW scores at the cut: duplicate rows make them.
  Model m = tiny(DType::F32, 1);
  LayerWeights& w = m.layers[0];
  const int64_t I = w.intermediate_size(), H = w.w_gate.cols();
  auto* gate = static_cast<float*>(m.allocate(sizeof(float) * static_cast<size_t>(I * H)));
  auto* up = static_cast<float*>(m.allocate(sizeof(float) * static_cast<size_t>(I * H)));
  for (int64_t i = 0; i < I; ++i)
    for (int64_t j = 0; j < H; ++j) {
      // Every row has the same max and min: all neurons tie.
      gate[i * H + j] = (j == (i % H)) ? 1.0f : ((j == ((i + 1) % H)) ? -1.0f : 0.0f);
      up[i * H + j] = gate[i * H + j];
    }
  w.w_gate.data = gate;
  w.w_up.data = up;
  WidthPruningOptions o;
  o.pruning_percentage = 25;
  const PruningPlan plan = plan_width_pruning(m, o);
  const int64_t k = neurons_to_keep(I, 25);
  ASSERT_EQ(plan.layers[0].new_size, k);
  for (int64_t i = 0; i < k; ++i) EXPECT_EQ(plan.layers[0].kept[static_cast<size_t>(i)], i);
}

TEST(PrunePlan, DivisorRoundsToMultiplesWithinTheLayer) {
  EXPECT_EQ(round_to_divisor(6554, 8192, 128), 6528);  // 51.2 -> 51
  EXPECT_EQ(round_to_divisor(6592, 8192, 128), 6656);  // 51.5 -> 52 (half to even)
  EXPECT_EQ(round_to_divisor(6464, 8192, 128), 6400);  // 50.5 -> 50 (half to even)
  EXPECT_EQ(round_to_divisor(8190, 8192, 256), 8192);
  EXPECT_EQ(round_to_divisor(172, 172, 32), 160);      // never above the layer
  EXPECT_EQ(round_to_divisor(10, 172, 64), 64);        // never 0
  EXPECT_EQ(round_to_divisor(20, 30, 32), 20);         // a layer narrower than the divisor keeps k
}

TEST(PrunePlan, PercentagePlanAppliesToEveryLayer) {
  const Model m = tiny();
  WidthPruningOptions o;
  o.pruning_percentage = 25;
  const PruningPlan plan = plan_width_pruning(m, o);
  ASSERT_EQ(plan.layers.size(), m.layers.size());
  for (const LayerPlan& l : plan.layers) {
    EXPECT_TRUE(l.pruned);
    EXPECT_EQ(l.new_size, neurons_to_keep(l.original_size, 25));
    EXPECT_EQ(static_cast<int64_t>(l.kept.size()), l.new_size);
  }
}

TEST(PrunePlan, DefaultIsTenPercent) {
  const Model m = tiny();
  const PruningPlan plan = plan_width_pruning(m, WidthPruningOptions{});
  EXPECT_EQ(plan.layers[0].new_size, neurons_to_keep(m.layers[0].intermediate_size(), 10));
}

TEST(PrunePlan, LayerIndicesAndMapLeaveOtherLayersShared) {
  const Model m = tiny();
  ASSERT_GE(m.layers.size(), 2u);
  WidthPruningOptions o;
  o.pruning_percentage = 50;
  o.layer_indices = {1};
  const Model p = apply_width_pruning(m, plan_width_pruning(m, o));
  EXPECT_EQ(p.layers[0].w_gate.data, m.layers[0].w_gate.data);  // untouched: same memory
  EXPECT_EQ(p.layers[1].intermediate_size(), neurons_to_keep(m.layers[1].intermediate_size(), 50));
  EXPECT_EQ(p.layers[1].wq.data, m.layers[1].wq.data);           // attention is never copied
  EXPECT_EQ(p.tok_embeddings.data, m.tok_embeddings.data);

  WidthPruningOptions map;
  map.layer_percentages = {{0, 10}, {1, 30}};
  const Model q = apply_width_pruning(m, plan_width_pruning(m, map));
  EXPECT_EQ(q.layers[0].intermediate_size(), neurons_to_keep(m.layers[0].intermediate_size(), 10));
  EXPECT_EQ(q.layers[1].intermediate_size(), neurons_to_keep(m.layers[1].intermediate_size(), 30));
  EXPECT_EQ(q.config.intermediate_sizes[1], q.layers[1].intermediate_size());
  EXPECT_EQ(q.config.intermediate_size, q.layers[0].intermediate_size());
}

TEST(PrunePlan, SlicedTensorsHoldTheKeptRowsAndColumns) {
  for (DType t : {DType::F32, DType::BF16}) {
    const Model m = tiny(t, 1);
    const std::vector<std::vector<int64_t>> kept = {{0, 3, 5, 17}};
    const Model p = apply_kept_neurons(m, kept);
    const LayerWeights &a = m.layers[0], &b = p.layers[0];
    ASSERT_EQ(b.w_gate.shape, (std::vector<int64_t>{4, a.w_gate.cols()}));
    ASSERT_EQ(b.w_down.shape, (std::vector<int64_t>{a.w_down.rows(), 4}));
    const size_t e = dtype_bytes(t, 1);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(0, std::memcmp(b.w_gate.row_data(static_cast<int64_t>(i)), a.w_gate.row_data(kept[0][i]), e * a.w_gate.cols()));
      EXPECT_EQ(0, std::memcmp(b.w_up.row_data(static_cast<int64_t>(i)), a.w_up.row_data(kept[0][i]), e * a.w_up.cols()));
      for (int64_t h = 0; h < a.w_down.rows(); ++h)
        EXPECT_EQ(0, std::memcmp(b.w_down.row_data(h) + i * e, a.w_down.row_data(h) + kept[0][i] * static_cast<int64_t>(e), e));
    }
  }
}

TEST(PrunePlan, KeepingEverythingChangesNothing) {
  const Model m = tiny();
  WidthPruningOptions o;
  o.pruning_percentage = 0;
  const Model p = apply_width_pruning(m, plan_width_pruning(m, o));
  const std::vector<int32_t> ids = {1, 5, 9, 2};
  EXPECT_EQ(forward_tokens(m, ids), forward_tokens(p, ids));
  EXPECT_EQ(p.layers[0].w_down.data, m.layers[0].w_down.data);
}

TEST(PrunePlan, RefusedPlansSayWhy) {
  const Model m = tiny();
  const int64_t I = m.layers[0].intermediate_size(), H = m.config.hidden_size;
  auto plan_with = [&](WidthPruningOptions o) { return error_of([&] { plan_width_pruning(m, o); }); };
  WidthPruningOptions o;

  o = {};
  o.expansion_rate = static_cast<double>(I) / static_cast<double>(H) * 100 + 1;  // above the current rate
  EXPECT_NE(plan_with(o).find("would not shrink"), std::string::npos) << plan_with(o);
  o.expansion_rate = static_cast<double>(I) / static_cast<double>(H) * 100;       // equal: nothing to do
  EXPECT_NE(plan_with(o).find("would not shrink"), std::string::npos);
  o.expansion_rate = 0;
  EXPECT_NE(plan_with(o).find("positive"), std::string::npos);

  for (double p : {-1.0, 100.0, 150.0, std::nan("")}) {
    o = {};
    o.pruning_percentage = p;
    EXPECT_NE(plan_with(o).find("below 100"), std::string::npos) << p;
  }
  o = {};
  o.pruning_percentage = 10;
  o.expansion_rate = 100;
  EXPECT_NE(plan_with(o).find("mutually exclusive"), std::string::npos);

  o = {};
  o.layer_indices = {0, 99};
  EXPECT_NE(plan_with(o).find("layer 99 does not exist"), std::string::npos);
  o.layer_indices = {-1};
  EXPECT_NE(plan_with(o).find("does not exist"), std::string::npos);
  o.layer_indices = {1, 1};
  EXPECT_NE(plan_with(o).find("twice"), std::string::npos);

  o = {};
  o.layer_percentages = {{42, 10}};
  EXPECT_NE(plan_with(o).find("layer 42 does not exist"), std::string::npos);
  o.layer_percentages = {{0, 100}};
  EXPECT_NE(plan_with(o).find("below 100"), std::string::npos);
  o.layer_percentages = {{0, 10}};
  o.pruning_percentage = 5;
  EXPECT_NE(plan_with(o).find("per-layer"), std::string::npos);

  o = {};
  o.expansion_divisor = 100;
  EXPECT_NE(plan_with(o).find("32, 64, 128 or 256"), std::string::npos);

  o = {};
  o.method = ImportanceMethod::VOW;
  o.activation_norms.assign(m.layers.size(), std::vector<float>(static_cast<size_t>(I), 1.0f));
  EXPECT_NE(plan_with(o).find("MAW"), std::string::npos);

  EXPECT_NE(error_of([&] { importance_method_from_name("XYZ"); }).find("MAW"), std::string::npos);
  EXPECT_EQ(importance_method_from_name("ppm"), ImportanceMethod::MAW);
}

TEST(PrunePlan, NonGluModelIsRefused) {
  Model m = tiny();
  m.layers[1].w_gate = Tensor{};
  WidthPruningOptions o;
  EXPECT_NE(error_of([&] { plan_width_pruning(m, o); }).find("not a gated (GLU) MLP"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_kept_neurons(m, std::vector<std::vector<int64_t>>(m.layers.size(), {0})); })
                .find("not a gated (GLU) MLP"),
            std::string::npos);
}

TEST(PrunePlan, MalformedKeptListsAreRefused) {
  const Model m = tiny();
  const size_t L = m.layers.size();
  std::vector<std::vector<int64_t>> kept(L, {0, 1});
  EXPECT_NE(error_of([&] { apply_kept_neurons(m, {{0}}); }).find("covers 1 layers"), std::string::npos);
  kept[0] = {};
  EXPECT_NE(error_of([&] { apply_kept_neurons(m, kept); }).find("no MLP neuron"), std::string::npos);
  kept[0] = {1, 0};
  EXPECT_NE(error_of([&] { apply_kept_neurons(m, kept); }).find("ascending"), std::string::npos);
  kept[0] = {0, 100000};
  EXPECT_NE(error_of([&] { apply_kept_neurons(m, kept); }).find("no neuron 100000"), std::string::npos);
}

TEST(PruneDepth, SelectionMethods) {
  DepthPruningOptions o;
  o.num_layers_to_remove = 2;
  EXPECT_EQ(select_layers_to_remove(6, o), (std::vector<int>{4, 5}));
  o.layer_selection_method = "first";
  EXPECT_EQ(select_layers_to_remove(6, o), (std::vector<int>{0, 1}));
  o = {};
  o.depth_pruning_percentage = 25;  // int(12 * 25 / 100) = 3, as optipfair's own test says
  EXPECT_EQ(select_layers_to_remove(12, o), (std::vector<int>{9, 10, 11}));
  o = {};
  o.layer_indices = {5, 2};
  EXPECT_EQ(select_layers_to_remove(6, o), (std::vector<int>{2, 5}));
  o = {};
  o.num_layers_to_remove = 2;
  o.layer_selection_method = "importance";
  o.layer_scores = {0.5, 0.1, 0.3, 0.1, 0.9, 0.2};
  EXPECT_EQ(select_layers_to_remove(6, o), (std::vector<int>{1, 3}));
}

TEST(PruneDepth, RefusedPlans) {
  auto sel = [](DepthPruningOptions o, int64_t n = 6) { return error_of([&] { select_layers_to_remove(n, o); }); };
  DepthPruningOptions o;
  EXPECT_NE(sel(o).find("needs one of"), std::string::npos);
  o.num_layers_to_remove = 1;
  o.depth_pruning_percentage = 10;
  EXPECT_NE(sel(o).find("mutually exclusive"), std::string::npos);
  o = {};
  o.num_layers_to_remove = 6;
  EXPECT_NE(sel(o).find("cannot remove 6"), std::string::npos);
  o.num_layers_to_remove = 0;
  EXPECT_NE(sel(o).find("positive"), std::string::npos);
  o = {};
  o.depth_pruning_percentage = 10;  // int(6 * 0.1) = 0
  EXPECT_NE(sel(o).find("removes no layer"), std::string::npos);
  o.depth_pruning_percentage = 100;
  EXPECT_NE(sel(o).find("below 100"), std::string::npos);
  o = {};
  o.layer_indices = {0, 6};
  EXPECT_NE(sel(o).find("layer 6 does not exist"), std::string::npos);
  o.layer_indices = {0, 1, 2, 3, 4, 5};
  EXPECT_NE(sel(o).find("all 6 layers"), std::string::npos);
  o = {};
  o.num_layers_to_remove = 1;
  o.layer_selection_method = "middle";
  EXPECT_NE(sel(o).find("last, first, custom or importance"), std::string::npos);
  o.layer_selection_method = "custom";
  EXPECT_NE(sel(o).find("needs the layer indices"), std::string::npos);
  o.layer_selection_method = "importance";
  EXPECT_NE(sel(o).find("one score per layer"), std::string::npos);
}

TEST(PruneDepth, RemovedModelIsTheTruncatedModel) {
  // Removing the last layer of a 3-layer synthetic model gives the 2-layer one (same weights).
  const Model full = tiny(DType::F32, 3);
  const Model two = tiny(DType::F32, 2);
  PruneOptions o;
  o.type = PruningType::Depth;
  o.depth.num_layers_to_remove = 1;
  o.show_progress = false;
  const PruneResult r = prune_model(full, o);
  EXPECT_EQ(r.model.config.num_hidden_layers, 2);
  EXPECT_EQ(r.stats.removed_layers, (std::vector<int>{2}));
  EXPECT_EQ(r.stats.original_layer_count, 3);
  EXPECT_EQ(r.stats.final_layer_count, 2);
  EXPECT_EQ(r.stats.pruned_parameters, count_parameters(two).total());
  const std::vector<int32_t> ids = {3, 1, 4, 1, 5};
  EXPECT_EQ(forward_tokens(r.model, ids), forward_tokens(two, ids));
  const auto j = r.stats.to_json();
  EXPECT_EQ(j["layers_removed"], 1);
  EXPECT_EQ(j["removed_layer_indices"], nlohmann::json::array({2}));
}

TEST(PruneDepth, LayerImportanceIsOneMinusCosine) {
  const Model m = tiny(DType::F32, 3);
  PruneOptions o;
  o.type = PruningType::Depth;
  o.depth.num_layers_to_remove = 1;
  o.depth.layer_selection_method = "importance";
  o.calibration = {{1, 2, 3, 4, 5, 6}, {7, 8, 9}};
  o.show_progress = false;
  const PruneResult r = prune_model(m, o);
  ASSERT_EQ(r.stats.layer_importance.size(), 3u);
  for (double v : r.stats.layer_importance) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 2.0);
  }
  // The removed layer is the one that changes its input least.
  const auto& s = r.stats.layer_importance;
  const int least = static_cast<int>(std::min_element(s.begin(), s.end()) - s.begin());
  EXPECT_EQ(r.stats.removed_layers, (std::vector<int>{least}));
}

TEST(PruneCalibration, CalibratedScoresUseActivations) {
  const Model m = tiny(DType::F32, 2);
  PruneOptions o;
  o.width.pruning_percentage = 25;
  o.calibration = {{1, 2, 3, 4, 5, 6, 7, 8}};
  o.show_progress = false;
  const PruneResult r = prune_model(m, o);
  EXPECT_EQ(r.stats.method, "MAW+calibration");
  EXPECT_EQ(r.model.layers[0].intermediate_size(), neurons_to_keep(m.layers[0].intermediate_size(), 25));
  // A neuron that never fires in calibration (zero activation norm) scores 0 and goes first.
  std::vector<std::vector<float>> norms(2, std::vector<float>(static_cast<size_t>(m.layers[0].intermediate_size()), 1.0f));
  norms[0][3] = 0.0f;
  const std::vector<float> s = neuron_importance_calibrated(m.layers[0], norms[0]);
  EXPECT_EQ(s[3], 0.0f);
  WidthPruningOptions w;
  w.pruning_percentage = 1;
  w.activation_norms = norms;
  const PruningPlan plan = plan_width_pruning(m, w);
  ASSERT_LT(plan.layers[0].new_size, m.layers[0].intermediate_size());
  EXPECT_EQ(std::count(plan.layers[0].kept.begin(), plan.layers[0].kept.end(), 3), 0);
}

}  // namespace
}  // namespace optipfair

namespace optipfair {
namespace {

// An F32 matrix as Q8_0 blocks (scale max|x| / 127, as ggml's reference quantizer), for a model
// whose MLP is stored quantised.
Tensor to_q8(Model& owner, const Tensor& t) {
  Tensor q = t;
  q.dtype = DType::Q8_0;
  q.row_stride = 0;
  const int64_t blocks = t.cols() / kQ8BlockSize;
  auto* out = static_cast<BlockQ8_0*>(owner.allocate(sizeof(BlockQ8_0) * static_cast<size_t>(t.rows() * blocks)));
  std::vector<float> row(static_cast<size_t>(t.cols()));
  for (int64_t r = 0; r < t.rows(); ++r) {
    dequantize_row(row.data(), t.matrix(), r);
    for (int64_t b = 0; b < blocks; ++b) {
      float amax = 0;
      for (int k = 0; k < kQ8BlockSize; ++k) amax = std::max(amax, std::fabs(row[static_cast<size_t>(b * kQ8BlockSize + k)]));
      const float d = amax / 127;
      BlockQ8_0& blk = out[r * blocks + b];
      blk.scale_f16 = f32_to_f16(d);
      for (int k = 0; k < kQ8BlockSize; ++k)
        blk.q[k] = static_cast<int8_t>(d == 0 ? 0 : std::lround(row[static_cast<size_t>(b * kQ8BlockSize + k)] / d));
    }
  }
  q.data = out;
  return q;
}

Model tiny_of_type(DType t) {
  if (t != DType::Q8_0) return tiny(t);
  Model m = tiny(DType::F32);
  for (LayerWeights& w : m.layers) {
    w.w_gate = to_q8(m, w.w_gate);
    w.w_up = to_q8(m, w.w_up);
    w.w_down = to_q8(m, w.w_down);
  }
  return m;
}

// zero_pruned_neurons (the Python library's zero_neurons_mlp): shapes kept, the dropped neurons'
// gate/up rows and down columns exactly zero in every stored type, everything else unchanged.
TEST(PruneZero, ZeroesExactlyTheDroppedNeuronsInEveryType) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    SCOPED_TRACE(dtype_name(t));
    const Model m = tiny_of_type(t);
    std::vector<std::vector<int64_t>> kept(m.layers.size());
    for (size_t l = 0; l < m.layers.size(); ++l)
      for (int64_t i = 0; i < m.layers[l].intermediate_size(); ++i)
        if (i % 3 != 1 || l == 0) kept[l].push_back(i);  // layer 0 keeps everything: stays shared
    const Model z = zero_pruned_neurons(m, kept);
    EXPECT_EQ(z.layers[0].w_gate.data, m.layers[0].w_gate.data);
    for (size_t l = 0; l < m.layers.size(); ++l) {
      const LayerWeights &a = m.layers[l], &b = z.layers[l];
      ASSERT_EQ(a.w_gate.shape, b.w_gate.shape);
      ASSERT_EQ(a.w_down.shape, b.w_down.shape);
      const int64_t I = a.intermediate_size(), H = a.w_gate.cols();
      std::vector<float> ra(static_cast<size_t>(std::max(I, H))), rb(ra.size());
      for (int64_t i = 0; i < I; ++i) {
        const bool dropped = l > 0 && i % 3 == 1;
        for (Tensor LayerWeights::*proj : {&LayerWeights::w_gate, &LayerWeights::w_up}) {
          dequantize_row(ra.data(), (a.*proj).matrix(), i);
          dequantize_row(rb.data(), (b.*proj).matrix(), i);
          for (int64_t h = 0; h < H; ++h) ASSERT_EQ(rb[h], dropped ? 0.0f : ra[h]) << "layer " << l << " row " << i;
        }
      }
      for (int64_t h = 0; h < a.w_down.rows(); ++h) {
        dequantize_row(ra.data(), a.w_down.matrix(), h);
        dequantize_row(rb.data(), b.w_down.matrix(), h);
        for (int64_t i = 0; i < I; ++i) ASSERT_EQ(rb[i], l > 0 && i % 3 == 1 ? 0.0f : ra[i]) << "layer " << l << " col " << i;
      }
    }
    PruningPlan plan;
    for (size_t l = 0; l < m.layers.size(); ++l) {
      LayerPlan lp;
      lp.layer = static_cast<int>(l);
      lp.original_size = m.layers[l].intermediate_size();
      lp.new_size = static_cast<int64_t>(kept[l].size());
      lp.kept = kept[l];
      plan.layers.push_back(lp);
    }
    const Model removed = apply_pruning_plan(m, plan, PruneMode::Remove);
    EXPECT_EQ(count_parameters(m).total() - count_parameters(removed).total(), plan_parameters_removed(m, plan));
    EXPECT_EQ(prune_mode_from_name("zero"), PruneMode::Zero);
    EXPECT_THROW(prune_mode_from_name("delete"), Error);
  }
}

}  // namespace
}  // namespace optipfair
