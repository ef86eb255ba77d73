// Q4_0 weights from packed panels (q4_0_panels_pack, layout in kernels/matmul.h) against x rounded
// to signed 8-bit blocks: an integer outer product. Per block of 32 columns, 4 loads bring 16
// rows' quants, and/shift unpack them to 8 vectors (lane r: 4 values of row r), and each x row's 4
// matching values are broadcast into vpdpbusd (the nibbles, 0..15, are its unsigned side; x its
// signed side), so a block's 16 integer dot products land in the 16 rows' own lanes; Q4_0's
// offset 8 comes off as 8 * (the x block's sum), the rows' 16 scales are one float16 load, and no
// horizontal sums remain. In place, each row's blocks are 18 bytes apart and every pair of blocks
// needs its own unpacking, offset and scale shuffles for 64 multiply-adds (quants_vnni.cpp): about
// 8 times the instructions per multiply-add.
//
// A lone row (a generated token) reads up to 4 panels side by side: 4 streams of weights kept its
// generation 1.08-1.16x faster than 1 (docs/performance.md); a batch takes one panel at a time
// against up to 8 x rows. Either way every output adds its blocks in order into one lane of one
// accumulator through the same operations (the integer part of a block is exact), so a row alone
// gives the same bits as inside a batch. Compiled for AVX-512 through a pragma after every
// #include (see matmul_avx512.cpp for why).
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
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")
#endif

namespace optipfair::detail {
namespace {

constexpr int kTileT = 8;  // 8 accumulators + 8 unpacked weight vectors + scales and sums

// -8 * (the x block's sum), Q4_0's offset, as the start of a block's integer sums. Wrapping: a NaN
// in x leaves the sum meaningless (the block's d is NaN then, and so is the output).
inline __m512i offset_start(const XBlockQ8_0& xb) {
  return _mm512_set1_epi32(static_cast<int32_t>(0u - 8u * static_cast<uint32_t>(xb.sum)));
}

inline __m512i x_word(const int8_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm512_set1_epi32(v);
}

// y[t, 0..nvalid) for TT rows of x (nb blocks each, rows ldx blocks apart) against one panel.
template <int TT>
inline void panel_tile(const uint8_t* panel, int64_t nb, const XBlockQ8_0* x, int64_t ldx, float* y, int64_t ldy,
                       __mmask16 valid) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const uint8_t* scales = panel + nb * 256;
  __m512 acc[TT];
  for (int t = 0; t < TT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* q = panel + b * 256;
    __m512i w[8];
    for (int g = 0; g < 4; ++g) {
      const __m512i raw = _mm512_loadu_si512(q + 64 * g);
      w[g] = _mm512_and_si512(raw, low4);
      w[g + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + 32 * b)));
    for (int t = 0; t < TT; ++t) {
      const XBlockQ8_0& xb = x[t * ldx + b];
      // Two chains of 4 (integer sums are exact in any order), for a lone row's latency.
      __m512i lo = offset_start(xb), hi = _mm512_setzero_si512();
      for (int g = 0; g < 4; ++g) {
        lo = _mm512_dpbusd_epi32(lo, w[g], x_word(xb.q + 4 * g));
        hi = _mm512_dpbusd_epi32(hi, w[g + 4], x_word(xb.q + 16 + 4 * g));
      }
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(xb.d));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, hi)), scale, acc[t]);
    }
  }
  for (int t = 0; t < TT; ++t) _mm512_mask_storeu_ps(y + t * ldy, valid, acc[t]);
}

// A lone x row against P panels at once: P independent streams of weights, each output through
// the same operations as panel_tile<1>.
template <int P>
inline void panels_lone(const uint8_t* panel, int64_t stride, int64_t nb, const XBlockQ8_0* x, float* y, __mmask16 last_valid) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const XBlockQ8_0& xb = x[b];
    const __m512 dx = _mm512_set1_ps(xb.d);
    for (int p = 0; p < P; ++p) {
      const uint8_t* q = panel + p * stride + b * 256;
      const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * stride + nb * 256 + 32 * b)));
      __m512i lo = offset_start(xb), hi = _mm512_setzero_si512();
      for (int g = 0; g < 4; ++g) {
        const __m512i raw = _mm512_loadu_si512(q + 64 * g);
        lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(raw, low4), x_word(xb.q + 4 * g));
        hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4), x_word(xb.q + 16 + 4 * g));
      }
      acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, hi)), _mm512_mul_ps(dw, dx), acc[p]);
    }
  }
  for (int p = 0; p + 1 < P; ++p) _mm512_storeu_ps(y + 16 * p, acc[p]);
  _mm512_mask_storeu_ps(y + 16 * (P - 1), last_valid, acc[P - 1]);
}

}  // namespace

void x_q8_0_signed(const XPairQ8_0* pairs, int64_t n_pairs, XBlockQ8_0* out) {
  for (int64_t p = 0; p < n_pairs; ++p)
    for (int h = 0; h < 2; ++h) {
      XBlockQ8_0& o = out[2 * p + h];
      for (int k = 0; k < 32; ++k) o.q[k] = static_cast<int8_t>(pairs[p].q[32 * h + k] ^ 0x80);
      o.d = pairs[p].s[8 * h];
      o.sum = pairs[p].sum[h];
    }
}

void matmul_rows_q4_0_panels_avx512vnni(const MatmulArgs& a, int64_t n0, int64_t n1) {
  const int64_t nb = a.K / 32, stride = q4_0_panel_bytes(a.K);
  if (a.T == 1) {
    const int64_t panels = (n1 - n0 + kQ4_0PanelRows - 1) / kQ4_0PanelRows;
    const int rest = static_cast<int>(n1 - n0 - (panels - 1) * kQ4_0PanelRows);
    const auto last_valid = static_cast<__mmask16>(rest >= 16 ? 0xFFFF : (1u << rest) - 1);
    const uint8_t* first = static_cast<const uint8_t*>(a.panels) + n0 / kQ4_0PanelRows * stride;
    switch (panels) {
      case 1: panels_lone<1>(first, stride, nb, a.x_q8_0s, a.y + n0, last_valid); break;
      case 2: panels_lone<2>(first, stride, nb, a.x_q8_0s, a.y + n0, last_valid); break;
      case 3: panels_lone<3>(first, stride, nb, a.x_q8_0s, a.y + n0, last_valid); break;
      case 4: panels_lone<4>(first, stride, nb, a.x_q8_0s, a.y + n0, last_valid); break;
      default: break;
    }
    return;
  }
  for (int64_t p0 = n0; p0 < n1; p0 += kQ4_0PanelRows) {
    const uint8_t* panel = static_cast<const uint8_t*>(a.panels) + p0 / kQ4_0PanelRows * stride;
    const int64_t left = n1 - p0;
    const auto valid = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1);
    float* y = a.y + p0;
    int64_t t = 0;
    for (; t + kTileT <= a.T; t += kTileT) panel_tile<kTileT>(panel, nb, a.x_q8_0s + t * nb, nb, y + t * a.ldy, a.ldy, valid);
    const XBlockQ8_0* xt = a.x_q8_0s + t * nb;
    float* yt = y + t * a.ldy;
    switch (a.T - t) {
      case 1: panel_tile<1>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 2: panel_tile<2>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 3: panel_tile<3>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 4: panel_tile<4>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 5: panel_tile<5>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 6: panel_tile<6>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 7: panel_tile<7>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      default: break;
    }
  }
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
