// A typed view on weight memory: a mapped file or a buffer the Model owns.
#pragma once
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul.h"

namespace optipfair {

// A BF16 or block-type matrix packed for fast products (bf16_panels_pack, block_panels_pack,
// kernels/matmul.h) and the view it was packed from. A copy of the tensor pointed at other memory or cut to another shape (a pruned
// slice) no longer matches it and multiplies in place; weights are never written after loading
// (pruning writes new buffers), so matching memory holds the values that were packed.
struct PackedPanels {
  const void* source = nullptr;
  DType dtype = DType::BF16;
  int64_t rows = 0, cols = 0;
  size_t row_bytes = 0;
  std::shared_ptr<const void> values;

  bool packs(const WeightMatrix& m) const {
    return m.dtype == dtype && m.data == source && m.rows == rows && m.cols == cols && m.row_bytes == row_bytes;
  }
};

struct Tensor {
  std::string name;             // name in the source file (for messages)
  DType dtype = DType::F32;
  std::vector<int64_t> shape;   // outermost first, as safetensors and PyTorch write it
  const void* data = nullptr;   // not owned
  int64_t row_stride = 0;       // elements between row starts; 0 = contiguous (cols). A column-sliced
                                // view (e.g. down_proj of a zero-padded layer) has row_stride > cols.

  bool present() const { return data != nullptr; }
  int64_t numel() const {
    return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  }
  size_t nbytes() const { return dtype_bytes(dtype, numel()); }
  int64_t rows() const { return shape.size() >= 2 ? shape[0] : 1; }
  int64_t cols() const { return shape.empty() ? 0 : shape.back(); }
  int64_t stride() const { return row_stride > 0 ? row_stride : cols(); }
  bool contiguous() const { return stride() == cols(); }
  std::shared_ptr<const PackedPanels> panels;  // set by model_pack_panels (model/panels.h)

  // The 2-D matrix view the kernels take, with its panels when they were packed from this view.
  WeightMatrix matrix() const {
    WeightMatrix m{data, dtype, rows(), cols(), dtype_bytes(dtype, stride())};
    if (panels && panels->packs(m)) m.panels = panels->values.get();
    return m;
  }
  // Start of row r.
  const uint8_t* row_data(int64_t r) const {
    return static_cast<const uint8_t*>(data) + r * dtype_bytes(dtype, stride());
  }
  // Rows [first, first + count) of a matrix, as a view (Phi-3's q, k, v in one qkv_proj). The
  // caller checks the range.
  Tensor rows_view(int64_t first, int64_t count) const {
    Tensor t = *this;
    t.data = row_data(first);
    t.shape[0] = count;
    return t;
  }
};

}  // namespace optipfair
