// What matmul.cpp hands to the per-instruction-set kernels (matmul_<isa>.cpp).
// Each kernel computes y[t, n] for every t < T and n in [n0, n1); the caller splits
// the work over threads, so a kernel never starts threads itself.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/dtype.h"

namespace optipfair::detail {

// One row of x rounded to 8-bit integers for the K-quant integer dot products: 256 values as
// q * d, q = nearest-even(x * 127 / max|x|), with the sums of q that the types' offsets need.
struct alignas(64) XBlockQ8K {
  int8_t q[256];
  int32_t sum16[16];  // over each 16 values (Q6_K's groups)
  int32_t sum32[8];   // over each 32 (Q4_K's sub-blocks)
  float d;
};

// One row of x as the 32-value block types (Q8_0, Q4_0, ...) meet it: 64 values (two blocks) as
// (q - 128) * d, q unsigned, d per block repeated over the 8 lanes its products land in, and each
// block's sum of q - 128 (for Q4_1 and Q5_1's minimums).
struct alignas(64) XPairQ8_0 {
  uint8_t q[64];
  float s[16];
  int32_t sum[2];
};

// One block of 32 values of x for the 32-value types' panels: q = nearest-even(x * 127 / max|x|) as signed
// bytes (the same rounding as XPairQ8_0), d = max|x| / 127 and the sum of q (for the offsets of
// Q4_0 and Q5_0 and the minimums of Q4_1 and Q5_1).
struct XBlockQ8_0 {
  int8_t q[32];
  float d;
  int32_t sum;
};

struct MatmulArgs {
  float* y = nullptr;               // [T x ldy]
  const float* x = nullptr;         // [T x K]
  const uint16_t* x_bf16 = nullptr; // x rounded to bf16 when the bf16 dot-product path is on
  const XBlockQ8K* x_q8k = nullptr;  // x as 8-bit integers (K / 256 blocks a row) for quants_vnni.cpp
  const XPairQ8_0* x_q8_0 = nullptr; // the same per 32 values (K / 64 pairs a row), 32-value types
  const XBlockQ8_0* x_q8_0s = nullptr; // the same as signed blocks (K / 32 a row), for block panels
  int64_t T = 0;
  int64_t K = 0;
  int64_t ldy = 0;                  // N
  const uint8_t* w = nullptr;
  const void* panels = nullptr;     // weights as bf16_panels_pack or block_panels_pack lays them out
  size_t row_bytes = 0;
  DType dtype = DType::F32;
};

using RowsKernel = void (*)(const MatmulArgs& a, int64_t n0, int64_t n1);

void matmul_rows_scalar(const MatmulArgs& a, int64_t n0, int64_t n1);
void matmul_rows_avx2(const MatmulArgs& a, int64_t n0, int64_t n1);
void matmul_rows_avx512(const MatmulArgs& a, int64_t n0, int64_t n1);
// Only for BF16 weights with a.x_bf16 set; needs AVX512_BF16.
void matmul_rows_avx512bf16(const MatmulArgs& a, int64_t n0, int64_t n1);
// The same from a.panels (n0 a multiple of kPanelRows, n1 - n0 at most kPanelRows): every output
// sums its column pairs in order in one accumulator lane, whatever T is.
void matmul_rows_panels_avx512bf16(const MatmulArgs& a, int64_t n0, int64_t n1);
// The same against float32 x (a.x) with AVX2 and FMA (kernels/bf16_panels_f32.h).
void matmul_rows_panels_avx2(const MatmulArgs& a, int64_t n0, int64_t n1);
// The same with AVX-512 (no AVX512_BF16 needed).
void matmul_rows_panels_avx512(const MatmulArgs& a, int64_t n0, int64_t n1);
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
// Fast mode, AVX512_VNNI: integer dot products of Q4_K, Q5_K and Q6_K weights against a.x_q8k and
// of the 32-value block types against a.x_q8_0 (quants_vnni.cpp); other types are left untouched.
void matmul_rows_int8_avx512vnni(const MatmulArgs& a, int64_t n0, int64_t n1);
// Q4_0 or Q8_0 weights from a.panels against a.x_q8_0s, the K-quants against a.x_q8k (n0 a
// multiple of kBlockPanelRows): each output sums its blocks in order in one accumulator lane,
// whatever T is.
void matmul_rows_block_panels_avx512vnni(const MatmulArgs& a, int64_t n0, int64_t n1);
// The same x as signed blocks: pairs of XPairQ8_0 to twice as many XBlockQ8_0.
void x_q8_0_signed(const XPairQ8_0* pairs, int64_t n_pairs, XBlockQ8_0* out);
// Rounds K floats (a multiple of 256) to K / 256 blocks.
void quantize_x_q8k(const float* x, int64_t K, XBlockQ8K* out);
// Rounds K floats (a multiple of 64) to K / 64 pairs of blocks: q = nearest-even(x * 127 / max|x|)
// + 128 over each 32 values.
void quantize_x_q8_0(const float* x, int64_t K, XPairQ8_0* out);
// Rounds n floats to bf16 (nearest even) with the AVX512_BF16 conversion.
void convert_f32_to_bf16_avx512bf16(uint16_t* dst, const float* src, int64_t n);

}  // namespace optipfair::detail
