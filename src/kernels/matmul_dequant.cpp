// Matrix products against the block types other than Q8_0 (Q4_0 ... Q6_K): each work item widens
// its weight rows once, block by block, into a float32 buffer that stays in cache, then runs the
// instruction set's float32 kernel on it. The weights are read from memory in their stored size;
// only the widened rows of one item (one row when x has one row) ever exist as float32. The same
// widening and kernel serve every number of x rows, so a row's result does not depend on the batch.
#include <algorithm>
#include <vector>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"

namespace optipfair::detail {

void matmul_rows_dequant(const MatmulArgs& a, int64_t n0, int64_t n1, RowsKernel f32_rows, WidenFn widen) {
  thread_local std::vector<float> widened;
  MatmulArgs f = a;
  f.row_bytes = static_cast<size_t>(a.K) * sizeof(float);
  f.dtype = DType::F32;
  f.x_bf16 = nullptr;
  // One row of x (a generated token): widen and multiply one weight row at a time, so the widened
  // row is still in L1 when it is read.
  const int64_t rows_per_pass = a.T == 1 ? 1 : n1 - n0;
  widened.resize(static_cast<size_t>(rows_per_pass * a.K));
  f.w = reinterpret_cast<const uint8_t*>(widened.data());
  for (int64_t r0 = n0; r0 < n1; r0 += rows_per_pass) {
    const int64_t rows = std::min(rows_per_pass, n1 - r0);
    for (int64_t r = 0; r < rows; ++r)
      widen(a.dtype, a.w + static_cast<size_t>(r0 + r) * a.row_bytes, widened.data() + r * a.K, a.K);
    f.y = a.y + r0;  // rows [r0, r0 + rows) of y are rows [0, rows) of the buffer
    f32_rows(f, 0, rows);
  }
}

}  // namespace optipfair::detail
