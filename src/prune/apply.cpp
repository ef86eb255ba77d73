#include "prune/apply.h"

#include <algorithm>
#include <cstring>

#include "kernels/matmul.h"
#include "model/panels.h"
#include "prune/importance.h"
#include "util/error.h"

namespace optipfair {

namespace {

void check_kept(const std::vector<int64_t>& kept, int64_t width, size_t layer) {
  const std::string L = "layer " + std::to_string(layer);
  if (kept.empty()) throw Error(L + " would keep no MLP neuron; keep at least one");
  for (size_t i = 0; i < kept.size(); ++i) {
    if (kept[i] < 0 || kept[i] >= width)
      throw Error(L + " has no neuron " + std::to_string(kept[i]) + " (its MLP has " + std::to_string(width) + ")");
    if (i > 0 && kept[i] <= kept[i - 1])
      throw Error("the kept neurons of " + L + " must be distinct and in ascending order");
  }
}

// Rows `kept` of t ([I x H]) into a new contiguous tensor of the same type.
Tensor gather_rows(Model& out, const Tensor& t, const std::vector<int64_t>& kept) {
  Tensor r = t;
  r.shape = {static_cast<int64_t>(kept.size()), t.cols()};
  r.row_stride = 0;
  const size_t row_bytes = dtype_bytes(t.dtype, t.cols());
  auto* dst = static_cast<uint8_t*>(out.allocate(row_bytes * kept.size()));
  r.data = dst;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < kept.size(); ++i) std::memcpy(dst + i * row_bytes, t.row_data(kept[i]), row_bytes);
  return r;
}

// Columns `kept` of t ([H x I]) into a new contiguous tensor.
Tensor gather_columns(Model& out, const Tensor& t, const std::vector<int64_t>& kept) {
  Tensor r = t;
  const int64_t rows = t.rows(), k = static_cast<int64_t>(kept.size());
  r.shape = {rows, k};
  r.row_stride = 0;
  if (dtype_is_quantized(t.dtype)) {  // a block cannot be cut between its columns
    r.dtype = DType::F32;
    auto* dst = static_cast<float*>(out.allocate(sizeof(float) * static_cast<size_t>(rows * k)));
    r.data = dst;
    const WeightMatrix m = t.matrix();
#pragma omp parallel
    {
      std::vector<float> row(static_cast<size_t>(t.cols()));
#pragma omp for schedule(static)
      for (int64_t h = 0; h < rows; ++h) {
        dequantize_row(row.data(), m, h);
        for (int64_t i = 0; i < k; ++i) dst[h * k + i] = row[static_cast<size_t>(kept[static_cast<size_t>(i)])];
      }
    }
    return r;
  }
  const size_t elem = dtype_bytes(t.dtype, 1);
  auto* dst = static_cast<uint8_t*>(out.allocate(elem * static_cast<size_t>(rows * k)));
  r.data = dst;
#pragma omp parallel for schedule(static)
  for (int64_t h = 0; h < rows; ++h) {
    const uint8_t* src = t.row_data(h);
    uint8_t* d = dst + static_cast<size_t>(h * k) * elem;
    if (elem == 2) {
      for (int64_t i = 0; i < k; ++i) std::memcpy(d + i * 2, src + kept[static_cast<size_t>(i)] * 2, 2);
    } else {
      for (int64_t i = 0; i < k; ++i) std::memcpy(d + i * elem, src + kept[static_cast<size_t>(i)] * static_cast<int64_t>(elem), elem);
    }
  }
  return r;
}

void check_plan(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer) {
  if (kept_per_layer.size() != model.layers.size())
    throw Error("the pruning plan covers " + std::to_string(kept_per_layer.size()) + " layers but the model has " +
                std::to_string(model.layers.size()));
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const LayerWeights& w = model.layers[l];
    require_glu(w);
    check_kept(kept_per_layer[l], w.intermediate_size(), l);
  }
}

// true for the neurons not in `kept` (ascending), over `width` neurons.
std::vector<bool> dropped_mask(const std::vector<int64_t>& kept, int64_t width) {
  std::vector<bool> dropped(static_cast<size_t>(width), true);
  for (int64_t i : kept) dropped[static_cast<size_t>(i)] = false;
  return dropped;
}

// A contiguous copy of t ([rows x cols]) in its stored type.
uint8_t* copy_contiguous(Model& out, Tensor& t) {
  const size_t row_bytes = dtype_bytes(t.dtype, t.cols());
  auto* dst = static_cast<uint8_t*>(out.allocate(row_bytes * static_cast<size_t>(t.rows())));
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < t.rows(); ++r) std::memcpy(dst + static_cast<size_t>(r) * row_bytes, t.row_data(r), row_bytes);
  t.data = dst;
  t.row_stride = 0;
  return dst;
}

// Rows of t ([I x H]) whose neuron is dropped set to zero (all-zero bytes are 0.0 in every type,
// and a Q8_0 block of zero scale and zero quants).
Tensor zero_rows(Model& out, const Tensor& t, const std::vector<bool>& dropped) {
  Tensor r = t;
  uint8_t* dst = copy_contiguous(out, r);
  const size_t row_bytes = dtype_bytes(r.dtype, r.cols());
  for (size_t i = 0; i < dropped.size(); ++i)
    if (dropped[i]) std::memset(dst + i * row_bytes, 0, row_bytes);
  return r;
}

// Columns of t ([H x I]) whose neuron is dropped set to zero. In a Q8_0 row only the column's
// quant is cleared: its block's scale still serves the other columns. The other block types cannot
// hold an exact zero beside other values (a minimum or an offset is shared), so they are widened
// to float32 first, as when columns are removed.
Tensor zero_columns(Model& out, const Tensor& t, const std::vector<bool>& dropped) {
  if (dtype_is_quantized(t.dtype) && t.dtype != DType::Q8_0) {
    std::vector<int64_t> all(static_cast<size_t>(t.cols()));
    for (int64_t i = 0; i < t.cols(); ++i) all[static_cast<size_t>(i)] = i;
    return zero_columns(out, gather_columns(out, t, all), dropped);
  }
  Tensor r = t;
  uint8_t* dst = copy_contiguous(out, r);
  const size_t row_bytes = dtype_bytes(r.dtype, r.cols());
  const int64_t cols = r.cols();
#pragma omp parallel for schedule(static)
  for (int64_t h = 0; h < r.rows(); ++h) {
    uint8_t* row = dst + static_cast<size_t>(h) * row_bytes;
    for (int64_t i = 0; i < cols; ++i) {
      if (!dropped[static_cast<size_t>(i)]) continue;
      if (r.dtype == DType::Q8_0) {
        row[static_cast<size_t>(i / kQ8BlockSize) * sizeof(BlockQ8_0) + 2 + static_cast<size_t>(i % kQ8BlockSize)] = 0;
      } else {
        const size_t elem = dtype_bytes(r.dtype, 1);
        std::memset(row + static_cast<size_t>(i) * elem, 0, elem);
      }
    }
  }
  return r;
}

}  // namespace

Model apply_kept_neurons(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer) {
  check_plan(model, kept_per_layer);
  if (model.layers.empty()) return model;
  Model out = model;  // shares every tensor's memory through the copied storage owners
  out.config.intermediate_sizes.resize(out.layers.size());
  for (size_t l = 0; l < out.layers.size(); ++l) {
    LayerWeights& w = out.layers[l];
    const auto& kept = kept_per_layer[l];
    if (static_cast<int64_t>(kept.size()) != w.intermediate_size()) {
      w.w_gate = gather_rows(out, w.w_gate, kept);
      w.w_up = gather_rows(out, w.w_up, kept);
      w.w_down = gather_columns(out, w.w_down, kept);
    }
    out.config.intermediate_sizes[l] = w.intermediate_size();
  }
  out.config.intermediate_size =
      *std::max_element(out.config.intermediate_sizes.begin(), out.config.intermediate_sizes.end());
  if (model_has_panels(model)) model_pack_panels(out);  // the cut matrices too, as their source
  return out;
}

Model apply_width_pruning(const Model& model, const PruningPlan& plan) {
  return apply_kept_neurons(model, plan.kept_per_layer());
}

Model zero_pruned_neurons(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer) {
  check_plan(model, kept_per_layer);
  Model out = model;
  for (size_t l = 0; l < out.layers.size(); ++l) {
    LayerWeights& w = out.layers[l];
    const auto& kept = kept_per_layer[l];
    if (static_cast<int64_t>(kept.size()) == w.intermediate_size()) continue;
    const std::vector<bool> dropped = dropped_mask(kept, w.intermediate_size());
    w.w_gate = zero_rows(out, w.w_gate, dropped);
    w.w_up = zero_rows(out, w.w_up, dropped);
    w.w_down = zero_columns(out, w.w_down, dropped);
  }
  if (model_has_panels(model)) model_pack_panels(out);
  return out;
}

int64_t plan_parameters_removed(const Model& model, const PruningPlan& plan) {
  int64_t removed = 0;
  for (const LayerPlan& lp : plan.layers) {
    const LayerWeights& w = model.layers.at(static_cast<size_t>(lp.layer));
    removed += (lp.original_size - lp.new_size) * (w.w_gate.cols() + w.w_up.cols() + w.w_down.rows());
  }
  return removed;
}

PruneMode prune_mode_from_name(std::string_view name) {
  if (name == "remove") return PruneMode::Remove;
  if (name == "zero") return PruneMode::Zero;
  throw Error("unknown pruning mode '" + std::string(name) + "' (use remove or zero)");
}

const char* prune_mode_name(PruneMode mode) { return mode == PruneMode::Zero ? "zero" : "remove"; }

Model apply_pruning_plan(const Model& model, const PruningPlan& plan, PruneMode mode) {
  return mode == PruneMode::Zero ? zero_pruned_neurons(model, plan.kept_per_layer()) : apply_width_pruning(model, plan);
}

}  // namespace optipfair
