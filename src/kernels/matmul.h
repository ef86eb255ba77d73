// Matrix products against stored weights: the hot path of every forward pass.
//
//   y[t, n] = sum_k x[t, k] * W[n, k]      for t < T, n < N
//
// x is float32 [T x K] (row stride K), W holds N rows of K elements in its
// stored type (F32, F16, BF16 or a GGUF block type), row n starting at w + n * w_row_bytes,
// y is float32 [T x N] (row stride N). Work is split across OpenMP threads.
// matmul_naive is the plain reference every fast path is tested against.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kernels/dtype.h"

namespace optipfair {

// How activations meet BF16 weights; a parameter of each call, so two analyses running at once in
// one process never change each other's arithmetic.
enum class Precision : uint8_t {
  // When the CPU has AVX512_BF16, x is rounded once to bf16 and multiplied with bf16 dot-product
  // instructions (as llama.cpp does): prompts about twice as fast, token generation (T == 1)
  // at the memory's read rate (25 % above float32 x); each x element then carries a relative
  // error of at most 2^-9, so |y - y_exact| <= 2^-9 * sum_k |x_k * w_k| plus float32 accumulation
  // error. With AVX512_VNNI (which the AVX512_BF16 level includes), block-type weights meet x
  // rounded to 8-bit integers per 256 values (K-quants) or 32 (the others), in integer dot
  // products (as llama.cpp): each x element is then off by at most half a step, max|x| / 254
  // over its block.
  Fast,
  // Weights are widened to float32 and x stays float32; the only error is float32 accumulation.
  // Bias metrics are small differences of activations, so analyses default to this.
  Exact,
};
// "fast" or "exact"; throws Error otherwise.
Precision precision_from_name(std::string_view name);
const char* precision_name(Precision precision);

struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0;         // N: output features
  int64_t cols = 0;         // K: input features
  size_t row_bytes = 0;     // distance between consecutive rows
  // Optional: the same matrix repacked, BF16 by bf16_panels_pack, Q4_0/Q8_0/K-quant by
  // block_panels_pack. Fast mode on AVX512_BF16 CPUs (which have AVX512_VNNI) then multiplies from
  // the panels for every T (a row alone and in a batch still agree); exact mode and other
  // instruction sets read `data`.
  const void* panels = nullptr;
};

// BF16 weights repacked once for the fast path's outer-product kernel: panels of kPanelRows rows;
// inside a panel, for each pair of columns (2p, 2p + 1), the panel's rows' two values side by side
// (row r's pair is 32-bit lane r % 16 of vector r / 16), so one 64-byte load holds 16 rows' pair,
// a vdpbf16ps against x's pair broadcast adds it into 16 outputs, and no horizontal sums remain.
// Rows past the matrix's last and an odd K's last column are zero. Panel i starts at element
// i * bf16_panel_stride(cols).
constexpr int64_t kPanelRows = 64;
int64_t bf16_panel_stride(int64_t cols);
// Elements (uint16_t) the panels of a rows x cols matrix take; throws Error if that overflows.
size_t bf16_panels_size(int64_t rows, int64_t cols);
// Packs w (BF16; throws Error otherwise) into dst of bf16_panels_size(w.rows, w.cols) elements,
// panels split over the OpenMP threads.
void bf16_panels_pack(uint16_t* dst, const WeightMatrix& w);

// Every GGUF block type repacked for the fast path's integer outer-product kernel: panels of
// kBlockPanelRows rows, as large as in the file (Q4_K 2.8 %, Q5_K 2.3 % larger). The 32-value
// types: for each block b of 32 columns in turn, the 16 rows' quants as vectors of 64 bytes, vector
// g holding 4 bytes of each row (row r at bytes 4r..4r+3): for Q4_0, Q4_1, Q5_0 and Q5_1 4 vectors,
// bytes 4g..4g+3 of each row's 16 (so the low nibbles are values 4g..4g+3 and the high nibbles
// values 16 + 4g.., the file's own pairing), for Q5_0 and Q5_1 then one vector of their fifth bits
// (row r's 4 bytes: byte k's bit g that of value 4g + k, its bit 4 + g that of value 16 + 4g + k);
// for Q8_0 8 vectors, values 4g..4g+3 plus 128 (unsigned bytes); then the block's 16 scales
// (float16, row order), for Q4_1 and Q5_1 then the 16 minimums. Block b starts at byte b * (288,
// 320, 352, 384 or 544) of its panel, so a panel is one stream. The K-quants, per block of 256
// columns, their bytes as such vectors of 4-byte words. Q4_K (2,368 bytes): 32 vectors, vector
// 8c + g holding bytes 4g..4g+3 of each row's 32-byte quant chunk c (low nibbles sub-block 2c, high
// 2c + 1). Q5_K (2,880 bytes): for each word g, the vector of qh bytes 4g..4g+3 (bit j: sub-block
// j's fifth bit), then the 4 chunks' vectors of word g. Both then hold the 8 sub-blocks' 6-bit
// scales as bytes (16 rows each), their minimums, the 16 rows' d and the 16 dmin (float16). Q6_K
// (3,360 bytes): for each half h and word g, the vectors of ql words 16h + g and 16h + 8 + g and of
// qh word 8h + g, then the 16 sub-blocks' int8 scales (16 rows each), then the rows' d. Rows past
// the matrix's last are zero. Panel i starts at byte i * block_panel_bytes(type, cols), a multiple
// of 64.
constexpr int64_t kBlockPanelRows = 16;
bool block_panels_take(DType t);  // every block type (dtype_is_quantized)
int64_t block_panel_bytes(DType t, int64_t cols);
// Bytes the panels of a rows x cols matrix of type t take; throws Error if t is not taken, cols is
// not a whole number of blocks (32 values, the K-quants 256) or the size overflows.
size_t block_panels_size(DType t, int64_t rows, int64_t cols);
// Packs w (a block type; throws Error otherwise) into dst of block_panels_size(w.dtype, w.rows, w.cols) bytes.
void block_panels_pack(uint8_t* dst, const WeightMatrix& w);

void matmul(float* y, const float* x, int64_t T, const WeightMatrix& w, Precision precision = Precision::Fast);

// One product of a group: y [T x w.rows] = x · wᵀ.
struct MatmulOutput {
  float* y = nullptr;
  WeightMatrix w;
};
// Several products of the same x (a layer's q, k and v; gate and up), all weights with x's K
// columns, in one parallel loop: one start and one barrier for the threads instead of one per
// matrix (a token of a 1B model made ~130 of them), and x rounded to bf16 once. Each y is
// bit-identical to matmul's.
void matmul_group(std::span<const MatmulOutput> outputs, const float* x, int64_t T,
                  Precision precision = Precision::Fast);
void matmul_naive(float* y, const float* x, int64_t T, const WeightMatrix& w);

// Widens row `row` of w into dst[0..cols) as float32 (embedding look-ups, scores).
void dequantize_row(float* dst, const WeightMatrix& w, int64_t row);

// Instruction sets the fast path can use, weakest first. The best one the CPU supports is
// chosen at start-up; tests and benchmarks may force a weaker one.
enum class MatmulIsa : uint8_t { Scalar, Avx2, Avx512, Avx512Bf16 };
MatmulIsa matmul_isa_best();
MatmulIsa matmul_isa();
// Selects isa, clamped to matmul_isa_best(); returns the one now in use.
MatmulIsa matmul_set_isa(MatmulIsa isa);
const char* matmul_isa_name(MatmulIsa isa);
// Whether fast products under `isa` multiply packed BF16 weights: AVX512_BF16 with bf16 x, AVX2
// and plain AVX-512 with float32 x (kernels/bf16_panels_f32.h); scalar code reads the rows.
bool bf16_panels_take(MatmulIsa isa);

}  // namespace optipfair
