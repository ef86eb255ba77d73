// Float32 to GGUF's block types: the inverse of dequantize_blocks (kernels/quants.h), used to make
// quantised synthetic models for tests and benchmarks. Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 follow
// ggml's reference quantisers (quantize_row_*_ref: the same formulas, so the same bytes); the
// K-quants take each sub-block's range as its scale (ggml's quantize_row_*_ref instead searches
// for the scale with least error), a valid encoding that dequantize_blocks and llama.cpp read the
// same way, with an error at most about half a quantisation step.
#pragma once
#include <cstdint>

#include "kernels/dtype.h"

namespace optipfair {

// Encodes n floats (a multiple of t's block) into dst (dtype_bytes(t, n) bytes). t must be a block
// type; throws Error otherwise.
void quantize_blocks(DType t, const float* src, uint8_t* dst, int64_t n);

}  // namespace optipfair
