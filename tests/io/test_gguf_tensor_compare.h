// Element-wise comparison of model tensors for the GGUF / llama2.c tests, whatever their dtype.
#pragma once
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "kernels/quants.h"
#include "model/model.h"

namespace optipfair::test {

inline float tensor_at(const Tensor& t, int64_t row, int64_t col) {
  const uint8_t* p = t.shape.size() == 1 ? static_cast<const uint8_t*>(t.data) + dtype_bytes(t.dtype, 1) * row
                                         : t.row_data(row);
  if (t.shape.size() == 1) col = 0;
  uint16_t h;
  float f;
  switch (t.dtype) {
    case DType::F32: std::memcpy(&f, p + 4 * col, 4); return f;
    case DType::F16: std::memcpy(&h, p + 2 * col, 2); return f16_to_f32(h);
    case DType::BF16: std::memcpy(&h, p + 2 * col, 2); return bf16_to_f32(h);
    default: {  // a block type: widen the block holding `col`
      const int64_t be = dtype_block_elements(t.dtype);
      float block[256];
      dequantize_blocks(t.dtype, p + dtype_bytes(t.dtype, col / be * be), block, be);
      return block[col % be];
    }
  }
}

// Every element of `b` equals `round(a)`, where round is identity or float32 -> bf16 -> float32.
inline void expect_tensor_eq(const Tensor& a, const Tensor& b, const std::string& what, bool bf16_round = false) {
  ASSERT_EQ(a.shape, b.shape) << what;
  const bool vec = a.shape.size() == 1;
  const int64_t rows = vec ? a.shape[0] : a.rows(), cols = vec ? 1 : a.cols();
  int64_t bad = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float x = tensor_at(a, r, c), y = tensor_at(b, r, c);
      if (bf16_round) x = bf16_to_f32(f32_to_bf16(x));
      if (x != y && bad++ < 3) ADD_FAILURE() << what << " differs at [" << r << ", " << c << "]: " << x << " vs " << y;
    }
  }
  EXPECT_EQ(bad, 0) << what;
}

inline void expect_models_eq(const Model& a, const Model& b, bool bf16_round = false) {
  expect_tensor_eq(a.tok_embeddings, b.tok_embeddings, "token embeddings", bf16_round);
  expect_tensor_eq(a.lm_head, b.lm_head, "lm_head", bf16_round);
  // Norms stay float32 in GGUF, so they never round.
  expect_tensor_eq(a.final_norm, b.final_norm, "final norm", bf16_round && b.final_norm.dtype == DType::BF16);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const LayerWeights &x = a.layers[l], &y = b.layers[l];
    const std::string L = "layer " + std::to_string(l) + " ";
    auto round_of = [&](const Tensor& t) { return bf16_round && t.dtype == DType::BF16; };
    expect_tensor_eq(x.attn_norm, y.attn_norm, L + "attn_norm", round_of(y.attn_norm));
    expect_tensor_eq(x.wq, y.wq, L + "wq", round_of(y.wq));
    expect_tensor_eq(x.wk, y.wk, L + "wk", round_of(y.wk));
    expect_tensor_eq(x.wv, y.wv, L + "wv", round_of(y.wv));
    expect_tensor_eq(x.wo, y.wo, L + "wo", round_of(y.wo));
    expect_tensor_eq(x.ffn_norm, y.ffn_norm, L + "ffn_norm", round_of(y.ffn_norm));
    expect_tensor_eq(x.w_gate, y.w_gate, L + "w_gate", round_of(y.w_gate));
    expect_tensor_eq(x.w_up, y.w_up, L + "w_up", round_of(y.w_up));
    expect_tensor_eq(x.w_down, y.w_down, L + "w_down", round_of(y.w_down));
  }
}

}  // namespace optipfair::test
