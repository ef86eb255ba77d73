// BF16 weights against float32 x from packed panels, for CPUs with AVX-512 but without AVX512_BF16
// (Skylake-SP to Ice Lake servers; the kernel, shared with AVX2, is kernels/bf16_panels_f32.h). A
// batch takes a whole 64-row panel, one 256-byte line of each pair, for 4 x rows: 16 accumulators,
// 8 widened weight vectors and 2 broadcasts of the 32 registers. Compiled for AVX-512 through a
// pragma after every #include (see matmul_avx512.cpp for why), and only called after a runtime
// CPU check.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
#endif

#include "kernels/bf16_panels_f32.h"

namespace optipfair::detail {
namespace {

struct Avx512Regs {
  using reg = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kBatchVecs = 4;
  // Measured with 2 threads (bench_matmul --isa avx512 --panels --T 128, GFLOP/s): in chunks of 256
  // pairs 186-225 over the 1B and SmolLM2 shapes, K = 8192 (down) 207-219 against 176-210 in one
  // pass; chunks of 128 and 64 pairs did no better.
  static constexpr int64_t kChunkPairs = 256;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static void widen_pairs(const uint16_t* wp, reg& first, reg& second) {
    const __m512i v = _mm512_loadu_si512(wp);
    const __m512i up = _mm512_set_epi64(0x0d0cffff0908ffffll, 0x0504ffff0100ffffll, 0x0d0cffff0908ffffll, 0x0504ffff0100ffffll,
                                        0x0d0cffff0908ffffll, 0x0504ffff0100ffffll, 0x0d0cffff0908ffffll, 0x0504ffff0100ffffll);
    first = _mm512_castsi512_ps(_mm512_shuffle_epi8(v, up));
    second = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int32_t>(0xFFFF0000u))));
  }
  static __mmask16 mask(int lanes) {
    return static_cast<__mmask16>(lanes >= kLanes ? 0xFFFF : lanes > 0 ? (1u << lanes) - 1 : 0);
  }
  static reg load(const float* y, int lanes) { return _mm512_maskz_loadu_ps(mask(lanes), y); }
  static void store(float* y, reg v, int lanes) { _mm512_mask_storeu_ps(y, mask(lanes), v); }
};

}  // namespace

void matmul_rows_panels_avx512(const MatmulArgs& a, int64_t n0, int64_t n1) { bf16_f32::rows_from_panels<Avx512Regs>(a, n0, n1); }

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
