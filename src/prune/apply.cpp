#include "prune/apply.h"

#include <algorithm>
#include <cstring>

#include "kernels/matmul.h"
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
  if (t.dtype == DType::Q8_0) {
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

}  // namespace

Model apply_kept_neurons(const Model& model, const std::vector<std::vector<int64_t>>& kept_per_layer) {
  if (kept_per_layer.size() != model.layers.size())
    throw Error("the pruning plan covers " + std::to_string(kept_per_layer.size()) + " layers but the model has " +
                std::to_string(model.layers.size()));
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const LayerWeights& w = model.layers[l];
    if (!w.w_gate.present() || !w.w_up.present() || !w.w_down.present())
      throw Error("this model's MLP is not a gated (GLU) MLP with gate, up and down projections, so it cannot be width-pruned");
    check_kept(kept_per_layer[l], w.intermediate_size(), l);
  }
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
  return out;
}

Model apply_width_pruning(const Model& model, const PruningPlan& plan) {
  return apply_kept_neurons(model, plan.kept_per_layer());
}

}  // namespace optipfair
