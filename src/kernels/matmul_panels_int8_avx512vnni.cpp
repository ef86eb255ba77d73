// Q4_0 and Q8_0 weights from packed panels (block_panels_pack, layout in kernels/matmul.h) against x
// rounded to signed 8-bit blocks: an integer outer product. Per block of 32 columns, 8 vectors of
// 16 rows' quants as unsigned bytes (Q4_0: 4 loads unpacked by and/shift; Q8_0: 8 loads, packed as
// value + 128) meet each x row's 4 matching values broadcast into vpdpbusd (x the signed side), so
// a block's 16 integer dot products land in the 16 rows' own lanes; the bytes' offset (8 or 128)
// comes off as offset * (the x block's sum), the rows' 16 scales (stored right after the block's
// quants) are one float16 load, and no horizontal sums remain. In place, each row's blocks are 18
// or 34 bytes apart and every pair of blocks needs its own unpacking, offset and scale shuffles
// for 64 multiply-adds (quants_vnni.cpp): several times the instructions per multiply-add.
//
// A panel is read front to back, one stream, by up to 8 x rows at once; a lone row (a generated
// token) is the 1-row case of the same loop. Reading several panels side by side, or the scales
// from a second stream after the quants, read memory 10-40 % slower (docs/performance.md). Every
// output adds its blocks in order into one lane of one accumulator through the same operations
// (the integer part of a block is exact), so a row alone gives the same bits as inside a batch.
// Compiled for AVX-512 through a pragma after every #include (see matmul_avx512.cpp for why).
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

// What the two types differ in: a block's quant bytes in the panel, how they become 8 vectors of
// unsigned bytes (lane r of vector i: values 4i..4i+3 of row r) and the offset those bytes carry
// (Q4_0's nibbles are value + 8, Q8_0's packed bytes value + 128).
template <DType T>
struct PanelType {
  static constexpr int64_t kQuantBytes = T == DType::Q4_0 ? 256 : 512;
  static constexpr uint32_t kOffset = T == DType::Q4_0 ? 8 : 128;
  static constexpr int64_t kBlockBytes = kQuantBytes + 2 * kBlockPanelRows;  // then the 16 scales
  static void unpack(const uint8_t* q, __m512i w[8]) {
    if constexpr (T == DType::Q4_0) {
      const __m512i low4 = _mm512_set1_epi8(0x0F);
      for (int g = 0; g < 4; ++g) {
        const __m512i raw = _mm512_loadu_si512(q + 64 * g);
        w[g] = _mm512_and_si512(raw, low4);
        w[g + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
      }
    } else {
      for (int g = 0; g < 8; ++g) w[g] = _mm512_loadu_si512(q + 64 * g);
    }
  }
};

inline __m512i x_word(const int8_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm512_set1_epi32(v);
}

// One block's 16 integer dot products with one x block, the offset taken off as offset * (the x
// block's sum), in two chains of 4 (integer sums are exact in any order; two shorten a lone row's
// latency). Wrapping arithmetic for the offset: a NaN in x leaves the sum meaningless (the block's
// d is NaN then, and so is the output).
template <DType T>
inline __m512i block_dot(const __m512i w[8], const XBlockQ8_0& xb) {
  __m512i lo = _mm512_set1_epi32(static_cast<int32_t>(0u - PanelType<T>::kOffset * static_cast<uint32_t>(xb.sum)));
  __m512i hi = _mm512_setzero_si512();
  for (int g = 0; g < 4; ++g) {
    lo = _mm512_dpbusd_epi32(lo, w[g], x_word(xb.q + 4 * g));
    hi = _mm512_dpbusd_epi32(hi, w[g + 4], x_word(xb.q + 16 + 4 * g));
  }
  return _mm512_add_epi32(lo, hi);
}

// y[t, 0..nvalid) for TT rows of x (nb blocks each, rows ldx blocks apart) against one panel.
template <DType T, int TT>
inline void panel_tile(const uint8_t* panel, int64_t nb, const XBlockQ8_0* x, int64_t ldx, float* y, int64_t ldy,
                       __mmask16 valid) {
  __m512 acc[TT];
  for (int t = 0; t < TT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* block = panel + b * PanelType<T>::kBlockBytes;
    __m512i w[8];
    PanelType<T>::unpack(block, w);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + PanelType<T>::kQuantBytes)));
    for (int t = 0; t < TT; ++t) {
      const XBlockQ8_0& xb = x[t * ldx + b];
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(block_dot<T>(w, xb)), _mm512_mul_ps(dw, _mm512_set1_ps(xb.d)), acc[t]);
    }
  }
  for (int t = 0; t < TT; ++t) _mm512_mask_storeu_ps(y + t * ldy, valid, acc[t]);
}

// Weight rows [n0, n1) of type T from their panels.
template <DType T>
void rows_from_panels(const MatmulArgs& a, int64_t n0, int64_t n1) {
  const int64_t nb = a.K / 32, stride = block_panel_bytes(T, a.K);
  const auto* all = static_cast<const uint8_t*>(a.panels);
  for (int64_t p0 = n0; p0 < n1; p0 += kBlockPanelRows) {
    const uint8_t* panel = all + p0 / kBlockPanelRows * stride;
    const int64_t left = n1 - p0;
    const auto valid = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1);
    float* y = a.y + p0;
    int64_t t = 0;
    for (; t + kTileT <= a.T; t += kTileT) panel_tile<T, kTileT>(panel, nb, a.x_q8_0s + t * nb, nb, y + t * a.ldy, a.ldy, valid);
    const XBlockQ8_0* xt = a.x_q8_0s + t * nb;
    float* yt = y + t * a.ldy;
    switch (a.T - t) {
      case 1: panel_tile<T, 1>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 2: panel_tile<T, 2>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 3: panel_tile<T, 3>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 4: panel_tile<T, 4>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 5: panel_tile<T, 5>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 6: panel_tile<T, 6>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      case 7: panel_tile<T, 7>(panel, nb, xt, nb, yt, a.ldy, valid); break;
      default: break;
    }
  }
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

void matmul_rows_block_panels_avx512vnni(const MatmulArgs& a, int64_t n0, int64_t n1) {
  if (a.dtype == DType::Q4_0) rows_from_panels<DType::Q4_0>(a, n0, n1);
  else if (a.dtype == DType::Q8_0) rows_from_panels<DType::Q8_0>(a, n0, n1);
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
