// BF16 weights against float32 x from packed panels (bf16_panels_pack, layout in kernels/matmul.h)
// for CPUs with AVX2 but without AVX512_BF16: an outer product in float32. A panel's pair line for
// 16 of its rows is one 64-byte cache line: 2 loads bring 8 rows' pairs each, a byte shuffle and a
// mask widen each pair's two bf16 weights to float32 (a bf16 is a float32's upper half), and each x
// row's two matching values, broadcast, meet them in FMAs: 16 rows x 4 x rows = 8 accumulators,
// with no horizontal sums. In place (matmul_avx2.cpp) every 8 weights need their own widening for
// 2 x rows and every output a horizontal sum.
//
// Every output adds w[2p] * x[2p], then w[2p + 1] * x[2p + 1], pair after pair from the first to
// the last, in one lane of one accumulator, whatever T is: a row alone gives the same bits as
// inside a batch. Compiled for AVX2 through a pragma after every #include (see matmul_avx512.cpp
// for why), and only called after a runtime CPU check.
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

namespace optipfair::detail {
namespace {

constexpr int kSubRows = 16;  // panel rows a batch's pass takes: one 64-byte line of each pair
constexpr int kTileT = 4;     // 4 x rows x 2 vectors = 8 accumulators + weights + 2 broadcasts
// Column pairs a batch's pass takes at a time: 32 KB of its 16 rows' lines and 16 KB of 4 x rows,
// near L1 while the x rows' tiles take their turns. Measured with 2 threads (bench_matmul --isa
// avx2 --panels --T 128, GFLOP/s): K = 8192 (down) 140-149 against 115-122 in one pass, K = 2048
// 134-144 against 143-151; chunks of 256 and 128 pairs did no better.
constexpr int64_t kChunkPairs = 512;

// A pair line's 8 rows (from wp) widened to float32: their first weights (the low halves moved up
// by a byte shuffle rather than a shift, which on many Intel cores shares the FMA ports) and their
// second (the high halves kept).
inline void widen_pairs(const uint16_t* wp, __m256& first, __m256& second) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp));
  const __m256i up = _mm256_setr_epi8(-1, -1, 0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13,  //
                                      -1, -1, 0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13);
  first = _mm256_castsi256_ps(_mm256_shuffle_epi8(v, up));
  second = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int32_t>(0xFFFF0000u))));
}

// y[t, 0..nvalid) for TT rows of x against V * 8 rows of a panel (`lines` points at their first
// pair's line; consecutive pairs' lines are kPanelRows * 2 elements apart), column pairs [p0, p1):
// from p0 > 0 on the sums go on from what y holds, so a pass in chunks adds in the same order. A
// batch takes 16 rows (V = 2) for 4 x rows; a lone row the whole panel (V = 8), so that 8
// accumulators hide the FMAs' latency there too. Both add the same products in the same order.
template <int TT, int V>
inline void rows_tile(const uint16_t* lines, int64_t K, int64_t p0, int64_t p1, const float* x, int64_t ldx, float* y,
                      int64_t ldy, int nvalid) {
  __m256 acc[TT][V];
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < V; ++j) {
      const int lanes = nvalid - 8 * j;
      if (p0 == 0 || lanes <= 0) {
        acc[t][j] = _mm256_setzero_ps();
      } else if (lanes >= 8) {
        acc[t][j] = _mm256_loadu_ps(y + t * ldy + 8 * j);
      } else {
        alignas(32) float tmp[8] = {};
        std::copy_n(y + t * ldy + 8 * j, lanes, tmp);
        acc[t][j] = _mm256_load_ps(tmp);
      }
    }
  const int64_t full = std::min(K / 2, p1);
  const uint16_t* wp = lines + p0 * 2 * kPanelRows;
  for (int64_t p = p0; p < full; ++p, wp += 2 * kPanelRows) {
    if constexpr (TT == 1) {  // one x row: its pair broadcast once, the 8 vectors widened in turn
      const __m256 x0 = _mm256_broadcast_ss(x + 2 * p), x1 = _mm256_broadcast_ss(x + 2 * p + 1);
      for (int j = 0; j < V; ++j) {
        __m256 first, second;
        widen_pairs(wp + 8 * 2 * j, first, second);
        acc[0][j] = _mm256_fmadd_ps(second, x1, _mm256_fmadd_ps(first, x0, acc[0][j]));
      }
    } else {  // the V vectors widened once for all TT rows: 8 + 4 + 2 of the 16 registers
      __m256 first[V], second[V];
      for (int j = 0; j < V; ++j) widen_pairs(wp + 8 * 2 * j, first[j], second[j]);
      for (int t = 0; t < TT; ++t) {
        const __m256 x0 = _mm256_broadcast_ss(x + t * ldx + 2 * p), x1 = _mm256_broadcast_ss(x + t * ldx + 2 * p + 1);
        for (int j = 0; j < V; ++j) acc[t][j] = _mm256_fmadd_ps(second[j], x1, _mm256_fmadd_ps(first[j], x0, acc[t][j]));
      }
    }
  }
  if (p1 * 2 > K)  // an odd K's last column: x has no element after it, its pair's second weight is 0
    for (int j = 0; j < V; ++j) {
      __m256 first, second;
      widen_pairs(wp + 8 * 2 * j, first, second);
      for (int t = 0; t < TT; ++t) acc[t][j] = _mm256_fmadd_ps(first, _mm256_broadcast_ss(x + t * ldx + 2 * full), acc[t][j]);
    }
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < V; ++j) {
      const int lanes = nvalid - 8 * j;
      if (lanes >= 8) {
        _mm256_storeu_ps(y + t * ldy + 8 * j, acc[t][j]);
      } else if (lanes > 0) {
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, acc[t][j]);
        std::copy_n(tmp, lanes, y + t * ldy + 8 * j);
      }
    }
}

}  // namespace

void matmul_rows_panels_avx2(const MatmulArgs& a, int64_t n0, int64_t n1) {
  const uint16_t* panel = static_cast<const uint16_t*>(a.panels) + n0 / kPanelRows * bf16_panel_stride(a.K);
  const int rows = static_cast<int>(n1 - n0);
  const int64_t pairs = (a.K + 1) / 2;
  if (a.T == 1) {
    rows_tile<1, kPanelRows / 8>(panel, a.K, 0, pairs, a.x, a.K, a.y + n0, a.ldy, rows);
    return;
  }
  for (int s = 0; s * kSubRows < rows; ++s) {
    const int nvalid = std::min(kSubRows, rows - s * kSubRows);
    const uint16_t* lines = panel + 2 * kSubRows * s;
    float* y = a.y + n0 + s * kSubRows;
    for (int64_t p0 = 0; p0 < pairs; p0 += kChunkPairs) {
      const int64_t p1 = std::min(pairs, p0 + kChunkPairs);
      int64_t t = 0;
      for (; t + kTileT <= a.T; t += kTileT)
        rows_tile<kTileT, 2>(lines, a.K, p0, p1, a.x + t * a.K, a.K, y + t * a.ldy, a.ldy, nvalid);
      const float* xt = a.x + t * a.K;
      float* yt = y + t * a.ldy;
      switch (a.T - t) {
        case 1: rows_tile<1, 2>(lines, a.K, p0, p1, xt, a.K, yt, a.ldy, nvalid); break;
        case 2: rows_tile<2, 2>(lines, a.K, p0, p1, xt, a.K, yt, a.ldy, nvalid); break;
        case 3: rows_tile<3, 2>(lines, a.K, p0, p1, xt, a.K, yt, a.ldy, nvalid); break;
        default: break;
      }
    }
  }
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
