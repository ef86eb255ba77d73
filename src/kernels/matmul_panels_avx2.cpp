// BF16 weights against float32 x from packed panels, for CPUs with AVX2 but without AVX-512 (the
// kernel, shared with plain AVX-512, is kernels/bf16_panels_f32.h). A batch takes 16 panel rows at
// a time, one 64-byte line of each pair, for 4 x rows: 8 accumulators, 4 widened weight vectors and
// 2 broadcasts of the 16 registers. In place (matmul_avx2.cpp) every 8 weights need their own
// widening for 2 x rows and every output a horizontal sum. Compiled for AVX2 through a pragma after
// every #include (see matmul_avx512.cpp for why), and only called after a runtime CPU check.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

#include "kernels/bf16_panels_f32.h"

namespace optipfair::detail {
namespace {

struct Avx2Regs {
  using reg = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kBatchVecs = 2;
  // Measured with 2 threads (bench_matmul --isa avx2 --panels --T 128, GFLOP/s): K = 8192 (down)
  // 140-149 in chunks of 512 pairs against 115-122 in one pass, K = 2048 134-144 against 143-151;
  // chunks of 256 and 128 pairs did no better.
  static constexpr int64_t kChunkPairs = 512;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static void widen_pairs(const uint16_t* wp, reg& first, reg& second) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp));
    const __m256i up = _mm256_setr_epi8(-1, -1, 0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13,  //
                                        -1, -1, 0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13);
    first = _mm256_castsi256_ps(_mm256_shuffle_epi8(v, up));
    second = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int32_t>(0xFFFF0000u))));
  }
  // y's first `lanes` values (all 8 from 8 on, none below 1), the rest zero.
  static reg load(const float* y, int lanes) {
    if (lanes >= kLanes) return _mm256_loadu_ps(y);
    alignas(32) float tmp[kLanes] = {};
    if (lanes > 0) std::copy_n(y, lanes, tmp);
    return _mm256_load_ps(tmp);
  }
  static void store(float* y, reg v, int lanes) {
    if (lanes >= kLanes) {
      _mm256_storeu_ps(y, v);
    } else if (lanes > 0) {
      alignas(32) float tmp[kLanes];
      _mm256_store_ps(tmp, v);
      std::copy_n(tmp, lanes, y);
    }
  }
};

}  // namespace

void matmul_rows_panels_avx2(const MatmulArgs& a, int64_t n0, int64_t n1) { bf16_f32::rows_from_panels<Avx2Regs>(a, n0, n1); }

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
