// Row order of the Q and K projections.
//
// Hugging Face checkpoints apply RoPE by "rotate half": within a head of d rows, row i pairs with row
// i + d/2. llama.cpp's GGUF (for llama-style archs) and llama2.c rotate adjacent pairs (2i, 2i+1), so
// their converters reorder the rows of each head: interleaved row 2i + j holds rotate-half row
// j * d/2 + i (j = 0, 1). These helpers map between the two orders.
#pragma once
#include <cstddef>
#include <cstdint>

#include "model/model.h"

namespace optipfair {

// Row of the interleaved (GGUF / llama2.c) order that holds rotate-half row `row`.
int64_t qk_interleaved_row(int64_t row, int64_t head_dim);
// Row of the rotate-half order that holds interleaved row `row` (the inverse of the above).
int64_t qk_half_row(int64_t row, int64_t head_dim);

// Copies a [n_heads * head_dim, row_bytes] matrix from interleaved to rotate-half order. src rows are
// src_stride bytes apart, dst rows row_bytes apart. Throws Error when head_dim is odd or
// n_heads * head_dim overflows.
void qk_rows_to_half(void* dst, const void* src, int64_t n_heads, int64_t head_dim, size_t row_bytes,
                     size_t src_stride);

// An owned (model.allocate) rotate-half copy of an interleaved Q or K weight [n_heads*head_dim, H]
// or bias [n_heads*head_dim]. Throws Error when the row count disagrees with the head layout or
// the layout's size overflows.
Tensor qk_to_half_copy(Model& model, const Tensor& src, int64_t n_heads, int64_t head_dim);

}  // namespace optipfair
