// Matrix products against the block types other than Q8_0 (Q4_0 ... Q6_K): each work item widens
// its weight rows once, block by block, into a float32 buffer that stays in cache, then runs the
// instruction set's float32 kernel on it. The weights are read from memory in their stored size;
// only the widened rows of one item ever exist as float32.
#include <vector>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"

namespace optipfair::detail {

void matmul_rows_dequant(const MatmulArgs& a, int64_t n0, int64_t n1, RowsKernel f32_rows) {
  thread_local std::vector<float> widened;
  const int64_t rows = n1 - n0;
  widened.resize(static_cast<size_t>(rows * a.K));
  for (int64_t r = 0; r < rows; ++r)
    dequantize_blocks(a.dtype, a.w + static_cast<size_t>(n0 + r) * a.row_bytes, widened.data() + r * a.K, a.K);
  MatmulArgs f = a;
  f.w = reinterpret_cast<const uint8_t*>(widened.data());
  f.row_bytes = static_cast<size_t>(a.K) * sizeof(float);
  f.dtype = DType::F32;
  f.x_bf16 = nullptr;
  f.y = a.y + n0;  // rows [n0, n1) of y are rows [0, rows) of the buffer
  f32_rows(f, 0, rows);
}

}  // namespace optipfair::detail
