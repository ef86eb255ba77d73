#include "io/qk_permute.h"

#include <cstring>
#include <string>

#include "util/error.h"

namespace optipfair {

int64_t qk_interleaved_row(int64_t row, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  const int64_t head = row / head_dim, r = row % head_dim;
  const int64_t j = r / half, i = r % half;
  return head * head_dim + 2 * i + j;
}

int64_t qk_half_row(int64_t row, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  const int64_t head = row / head_dim, r = row % head_dim;
  const int64_t i = r / 2, j = r % 2;
  return head * head_dim + j * half + i;
}

namespace {

// n_heads * head_dim, refused when the product overflows: both come from the file, and a wrapped
// product can equal a tensor's real row count.
int64_t head_rows(int64_t n_heads, int64_t head_dim, const std::string& what) {
  int64_t rows = 0;
  if (n_heads < 0 || head_dim < 0 || __builtin_mul_overflow(n_heads, head_dim, &rows))
    throw Error("cannot reorder the Q/K rows of " + what + ": " + std::to_string(n_heads) + " heads of " +
                std::to_string(head_dim) + " is too large or negative");
  return rows;
}

}  // namespace

void qk_rows_to_half(void* dst, const void* src, int64_t n_heads, int64_t head_dim, size_t row_bytes,
                     size_t src_stride) {
  if (head_dim <= 0 || head_dim % 2 != 0)
    throw Error("cannot reorder Q/K rows: head_dim " + std::to_string(head_dim) + " is not even");
  auto* out = static_cast<uint8_t*>(dst);
  const auto* in = static_cast<const uint8_t*>(src);
  const int64_t rows = head_rows(n_heads, head_dim, "a tensor");
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(out + r * row_bytes, in + qk_interleaved_row(r, head_dim) * src_stride, row_bytes);
}

Tensor qk_to_half_copy(Model& model, const Tensor& src, int64_t n_heads, int64_t head_dim) {
  const bool vector = src.shape.size() == 1;
  const int64_t rows = vector ? src.shape[0] : src.rows();
  const int64_t needed = head_rows(n_heads, head_dim, "tensor '" + src.name + "'");
  if (rows != needed)
    throw Error("tensor '" + src.name + "' has " + std::to_string(rows) + " rows but " + std::to_string(n_heads) +
                " heads of " + std::to_string(head_dim) + " need " + std::to_string(needed));
  // A bias is a column: each element is one "row" of one element.
  const size_t row_bytes = vector ? dtype_bytes(src.dtype, 1) : dtype_bytes(src.dtype, src.cols());
  const size_t src_stride = vector ? row_bytes : dtype_bytes(src.dtype, src.stride());
  if (vector && dtype_is_quantized(src.dtype))
    throw Error("tensor '" + src.name + "' is a " + std::string(dtype_name(src.dtype)) +
                " vector, which cannot be reordered");
  Tensor out = src;
  out.row_stride = 0;
  void* buf = model.allocate(row_bytes * static_cast<size_t>(rows));
  qk_rows_to_half(buf, src.data, n_heads, head_dim, row_bytes, src_stride);
  out.data = buf;
  return out;
}

}  // namespace optipfair
