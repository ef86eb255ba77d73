// What matmul.cpp hands to the per-instruction-set kernels (matmul_<isa>.cpp).
// Each kernel computes y[t, n] for every t < T and n in [n0, n1); the caller splits
// the work over threads, so a kernel never starts threads itself.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/dtype.h"

namespace optipfair::detail {

struct MatmulArgs {
  float* y = nullptr;               // [T x ldy]
  const float* x = nullptr;         // [T x K]
  const uint16_t* x_bf16 = nullptr; // x rounded to bf16 when the bf16 dot-product path is on
  int64_t T = 0;
  int64_t K = 0;
  int64_t ldy = 0;                  // N
  const uint8_t* w = nullptr;
  size_t row_bytes = 0;
  DType dtype = DType::F32;
};

using RowsKernel = void (*)(const MatmulArgs& a, int64_t n0, int64_t n1);

void matmul_rows_scalar(const MatmulArgs& a, int64_t n0, int64_t n1);
void matmul_rows_avx2(const MatmulArgs& a, int64_t n0, int64_t n1);
void matmul_rows_avx512(const MatmulArgs& a, int64_t n0, int64_t n1);
// Only for BF16 weights with a.x_bf16 set; needs AVX512_BF16.
void matmul_rows_avx512bf16(const MatmulArgs& a, int64_t n0, int64_t n1);
// Widens n elements of any type to float32 (dequantize_blocks, or a faster one bit for bit equal).
using WidenFn = void (*)(DType t, const uint8_t* src, float* dst, int64_t n);
// dequantize_blocks with AVX-512 (quants_avx512.cpp) or AVX2 (quants_avx2.cpp) for Q4_0, Q4_1,
// Q5_0, Q5_1, Q4_K, Q5_K and Q6_K.
void dequantize_blocks_avx512(DType t, const uint8_t* src, float* dst, int64_t n);
void dequantize_blocks_avx2(DType t, const uint8_t* src, float* dst, int64_t n);

// One row of x (T == 1) against those block types, each weight row widened in registers as it is
// read: the same values and order as widening it with dequantize_blocks_avx512 and multiplying
// with matmul_rows_avx512, so the same bits (quants_avx512.cpp).
void matmul_rows_blocks_avx512(const MatmulArgs& a, int64_t n0, int64_t n1);

// Block types other than Q8_0: rows widened to float32 in a buffer by `widen`, then `f32_rows` (an
// instruction set's kernel) on that buffer.
void matmul_rows_dequant(const MatmulArgs& a, int64_t n0, int64_t n1, RowsKernel f32_rows, WidenFn widen);
// Rounds n floats to bf16 (nearest even) with the AVX512_BF16 conversion.
void convert_f32_to_bf16_avx512bf16(uint16_t* dst, const float* src, int64_t n);

}  // namespace optipfair::detail
