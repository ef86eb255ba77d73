// The float32 outer product over packed BF16 panels (bf16_panels_pack, layout in kernels/matmul.h)
// for CPUs without AVX512_BF16, written once for both vector widths: matmul_panels_avx2.cpp and
// matmul_panels_avx512.cpp include it after their target pragmas (so its code is compiled for
// their instruction set only) with the traits of their registers.
//
// Per column pair, NV loads bring NV * W panel rows' pairs, a byte shuffle and a mask widen each
// pair's two bf16 weights to float32 (a bf16 is a float32's upper half; the shuffle rather than a
// shift because on many Intel cores shifts share the FMA ports), and each x row's two matching
// values, broadcast, meet them in FMAs: no horizontal sums. Every output adds w[2p] * x[2p], then
// w[2p + 1] * x[2p + 1], pair after pair from the first to the last, in one lane of one
// accumulator, whatever T is: a row alone gives the same bits as inside a batch.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"

namespace optipfair::detail::bf16_f32 {

// y[t, 0..nvalid) for TT rows of x against NV * R::kLanes rows of a panel (`lines` points at their
// first pair's line; consecutive pairs' lines are kPanelRows * 2 elements apart), column pairs
// [p0, p1): from p0 > 0 on the sums go on from what y holds, so a pass in chunks adds in the same
// order.
template <class R, int TT, int NV>
inline void rows_tile(const uint16_t* lines, int64_t K, int64_t p0, int64_t p1, const float* x, int64_t ldx, float* y,
                      int64_t ldy, int nvalid) {
  using reg = typename R::reg;
  constexpr int W = R::kLanes;
  reg acc[TT][NV];
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < NV; ++j) acc[t][j] = p0 == 0 ? R::zero() : R::load(y + t * ldy + W * j, nvalid - W * j);
  const int64_t full = std::min(K / 2, p1);
  const uint16_t* wp = lines + p0 * 2 * kPanelRows;
  for (int64_t p = p0; p < full; ++p, wp += 2 * kPanelRows) {
    if constexpr (TT == 1) {  // one x row: its pair broadcast once, the NV vectors widened in turn
      const reg x0 = R::broadcast(x + 2 * p), x1 = R::broadcast(x + 2 * p + 1);
      for (int j = 0; j < NV; ++j) {
        reg first, second;
        R::widen_pairs(wp + 2 * W * j, first, second);
        acc[0][j] = R::fmadd(second, x1, R::fmadd(first, x0, acc[0][j]));
      }
    } else {  // the NV vectors widened once for all TT rows
      reg first[NV], second[NV];
      for (int j = 0; j < NV; ++j) R::widen_pairs(wp + 2 * W * j, first[j], second[j]);
      for (int t = 0; t < TT; ++t) {
        const reg x0 = R::broadcast(x + t * ldx + 2 * p), x1 = R::broadcast(x + t * ldx + 2 * p + 1);
        for (int j = 0; j < NV; ++j) acc[t][j] = R::fmadd(second[j], x1, R::fmadd(first[j], x0, acc[t][j]));
      }
    }
  }
  // An odd K's last column: x has no element after it, and its pair's second weight is 0.
  if (p1 * 2 > K)
    for (int j = 0; j < NV; ++j) {
      reg first, second;
      R::widen_pairs(wp + 2 * W * j, first, second);
      for (int t = 0; t < TT; ++t) acc[t][j] = R::fmadd(first, R::broadcast(x + t * ldx + 2 * full), acc[t][j]);
    }
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < NV; ++j) R::store(y + t * ldy + W * j, acc[t][j], nvalid - W * j);
}

// Weight rows [n0, n1) (one panel) against every row of x. A batch goes through the panel
// R::kBatchVecs vectors of rows at a time, kTileT x rows sharing each widened weight, and through
// the column pairs in chunks of R::kChunkPairs, which keeps a chunk's lines and x rows near L1
// while the x rows' tiles take their turns. A lone row (a generated token) takes the whole panel
// at once, so that enough accumulators hide the FMAs' latency; it adds in the same order.
template <class R>
void rows_from_panels(const MatmulArgs& a, int64_t n0, int64_t n1) {
  constexpr int W = R::kLanes, kSubRows = R::kBatchVecs * W, kTileT = 4;
  const uint16_t* panel = static_cast<const uint16_t*>(a.panels) + n0 / kPanelRows * bf16_panel_stride(a.K);
  const int rows = static_cast<int>(n1 - n0);
  const int64_t pairs = (a.K + 1) / 2;
  if (a.T == 1) {
    rows_tile<R, 1, kPanelRows / W>(panel, a.K, 0, pairs, a.x, a.K, a.y + n0, a.ldy, rows);
    return;
  }
  for (int s = 0; s * kSubRows < rows; ++s) {
    const int nvalid = std::min(kSubRows, rows - s * kSubRows);
    const uint16_t* lines = panel + 2 * kSubRows * s;
    float* y = a.y + n0 + s * kSubRows;
    for (int64_t p0 = 0; p0 < pairs; p0 += R::kChunkPairs) {
      const int64_t p1 = std::min(pairs, p0 + R::kChunkPairs);
      int64_t t = 0;
      for (; t + kTileT <= a.T; t += kTileT)
        rows_tile<R, kTileT, R::kBatchVecs>(lines, a.K, p0, p1, a.x + t * a.K, a.K, y + t * a.ldy, a.ldy, nvalid);
      const float* xt = a.x + t * a.K;
      float* yt = y + t * a.ldy;
      switch (a.T - t) {
        case 1: rows_tile<R, 1, R::kBatchVecs>(lines, a.K, p0, p1, xt, a.K, yt, a.ldy, nvalid); break;
        case 2: rows_tile<R, 2, R::kBatchVecs>(lines, a.K, p0, p1, xt, a.K, yt, a.ldy, nvalid); break;
        case 3: rows_tile<R, 3, R::kBatchVecs>(lines, a.K, p0, p1, xt, a.K, yt, a.ldy, nvalid); break;
        default: break;
      }
    }
  }
}

}  // namespace optipfair::detail::bf16_f32
