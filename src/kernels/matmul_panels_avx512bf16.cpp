// BF16 weights against bf16 x from packed panels (bf16_panels_pack, layout in kernels/matmul.h):
// an outer product. Per column pair, 4 loads bring 64 rows' pairs (one contiguous 256-byte line of
// the panel), each x row's pair is broadcast, and vdpbf16ps adds both products into the 16 rows'
// own lanes: up to 6 x rows x 64 weight rows = 24 accumulators. Compared with the in-place tiles
// (matmul_avx512.cpp) there is no horizontal sum, and the weights are one sequential stream rather
// than 4 rows a row's length apart (4 KiB for K = 2048, the same L1 sets as the x rows): measured
// at 86-97 % of the machine's bf16 peak at 128 rows against 42-60 % (docs/performance_forward.md).
//
// Every output sums its column pairs in order, one lane of one accumulator, from the first pair
// to the last, whatever T is: a row alone gives the same bits as inside a batch, and a generated
// token (T == 1) reads each panel once, front to back. Compiled for AVX-512 through a pragma after
// every #include (see matmul_avx512.cpp for why).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c")
#endif

namespace optipfair::detail {
namespace {

constexpr int kVecs = kPanelRows / 16;  // 4 vectors of 16 rows
constexpr int kTileT = 6;               // 6 x 4 accumulators + 4 weight vectors + a broadcast

// y[t, 0..nvalid) for TT rows of x against one panel.
template <int TT>
inline void panel_tile(const uint16_t* panel, int64_t K, const uint16_t* x, int64_t ldx, float* y,
                       int64_t ldy, int nvalid) {
  __m512 acc[TT][kVecs];
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < kVecs; ++j) acc[t][j] = _mm512_setzero_ps();
  auto step = [&](const uint16_t* wp, auto load_x) __attribute__((always_inline)) {
    __m512i w[kVecs];
    for (int j = 0; j < kVecs; ++j) w[j] = _mm512_loadu_si512(wp + 32 * j);
    for (int t = 0; t < TT; ++t) {
      const __m512i b = _mm512_set1_epi32(load_x(x + t * ldx));
      for (int j = 0; j < kVecs; ++j) acc[t][j] = _mm512_dpbf16_ps(acc[t][j], (__m512bh)w[j], (__m512bh)b);
    }
  };
  const int64_t full = K / 2;
  const uint16_t* wp = panel;
  for (int64_t p = 0; p < full; ++p, wp += 2 * kPanelRows)
    step(wp, [p](const uint16_t* xr) __attribute__((always_inline)) {
      int32_t v;
      std::memcpy(&v, xr + 2 * p, 4);
      return v;
    });
  // An odd K's last column: its pair's second weight is zero, and x has no element there to read.
  if (full * 2 < K)
    step(wp, [full](const uint16_t* xr) __attribute__((always_inline)) { return static_cast<int32_t>(xr[2 * full]); });
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < kVecs; ++j) {
      const int lanes = nvalid - 16 * j;
      if (lanes >= 16) _mm512_storeu_ps(y + t * ldy + 16 * j, acc[t][j]);
      else if (lanes > 0) _mm512_mask_storeu_ps(y + t * ldy + 16 * j, static_cast<__mmask16>((1u << lanes) - 1), acc[t][j]);
    }
}

}  // namespace

void matmul_rows_panels_avx512bf16(const MatmulArgs& a, int64_t n0, int64_t n1) {
  const uint16_t* panel = static_cast<const uint16_t*>(a.panels) + n0 / kPanelRows * bf16_panel_stride(a.K);
  const int nvalid = static_cast<int>(n1 - n0);
  float* y = a.y + n0;
  int64_t t = 0;
  for (; t + kTileT <= a.T; t += kTileT)
    panel_tile<kTileT>(panel, a.K, a.x_bf16 + t * a.K, a.K, y + t * a.ldy, a.ldy, nvalid);
  const uint16_t* xt = a.x_bf16 + t * a.K;
  float* yt = y + t * a.ldy;
  switch (a.T - t) {
    case 1: panel_tile<1>(panel, a.K, xt, a.K, yt, a.ldy, nvalid); break;
    case 2: panel_tile<2>(panel, a.K, xt, a.K, yt, a.ldy, nvalid); break;
    case 3: panel_tile<3>(panel, a.K, xt, a.K, yt, a.ldy, nvalid); break;
    case 4: panel_tile<4>(panel, a.K, xt, a.K, yt, a.ldy, nvalid); break;
    case 5: panel_tile<5>(panel, a.K, xt, a.K, yt, a.ldy, nvalid); break;
    default: break;
  }
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
