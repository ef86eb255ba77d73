// The arithmetic bound a matrix product is measured against: multiply-adds on independent register
// accumulators on every thread, no memory traffic (bench/peak.cpp).
#pragma once

namespace optipfair::bench {

// Bf16Dot is AVX512_BF16's vdpbf16ps (64 flops an instruction), which the fast path multiplies
// BF16 weights with; F32Fma is a float32 FMA as wide as the CPU allows (the exact path, and every
// type widened to float32).
enum class PeakKind { Bf16Dot, F32Fma };

// GFLOP/s of `kind` on every OpenMP thread at once, best of `reps` runs of about 0.1 s each, with
// the instruction set matmul uses now (matmul_isa()); 0 when that lacks the instructions (bf16
// needs AVX512_BF16, float32 AVX2 and FMA).
double peak_gflops(PeakKind kind, int reps);

}  // namespace optipfair::bench
