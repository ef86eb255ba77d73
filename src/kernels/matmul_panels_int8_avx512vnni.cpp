// The 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) from packed panels (block_panels_pack,
// layout in kernels/matmul.h) against x rounded to signed 8-bit blocks: an integer outer product
// (the K-quants likewise, further down). Per block of 32 columns, 8 vectors of 16 rows' quants as
// unsigned bytes (4-bit types: 4 loads unpacked by and/shift, Q5_0 and Q5_1 OR-ing in a fifth-bit
// vector; Q8_0: 8 loads, packed as value + 128) meet each x row's 4 matching values broadcast into
// vpdpbusd (x the signed side), so a block's 16 integer dot products land in the 16 rows' own
// lanes; the bytes' offset (8, 16 or 128) comes off as offset * (the x block's sum), the rows' 16
// scales (stored right after the block's quants) are one float16 load, Q4_1 and Q5_1's minimums
// another (times dx * the x block's sum), and no horizontal sums remain. In place, each row's
// blocks are 18 to 34 bytes apart and every pair of blocks needs its own unpacking, offset and
// scale shuffles for 64 multiply-adds (quants_vnni.cpp): several times the instructions per
// multiply-add.
//
// A panel is read front to back, one stream, by up to 8 x rows at once; a lone row (a generated
// token) is the 1-row case of the same loop. Reading several panels side by side, or the scales
// from a second stream after the quants, read memory 10-40 % slower
// (docs/performance_forward.md). Every output adds its blocks in order into one lane of one
// accumulator through the same operations (the integer part of a block is exact), so a row alone
// gives the same bits as inside a batch.
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

// Each byte's bits moved up (by > 0) or down (by < 0); the shifts are 16 bits wide, so the caller
// masks off the bits that spill over from the neighbouring byte.
inline __m512i shift_bytes(__m512i v, int by) { return by >= 0 ? _mm512_slli_epi16(v, by) : _mm512_srli_epi16(v, -by); }

// What the types differ in: a block's quant bytes in the panel, how they become 8 vectors of
// unsigned bytes (lane r of vector i: values 4i..4i+3 of row r, vectors 4..7 Q4_0's pairing
// 16 + 4(i - 4)..), the offset those bytes carry (Q4_0's nibbles are value + 8, Q5_0's value + 16,
// Q8_0's packed bytes value + 128; Q4_1 and Q5_1 are q * d + m) and whether minimums follow.
template <DType T>
struct PanelType {
  static constexpr bool kFive = T == DType::Q5_0 || T == DType::Q5_1;
  static constexpr bool kMin = T == DType::Q4_1 || T == DType::Q5_1;
  static constexpr int64_t kQuantBytes = T == DType::Q8_0 ? 512 : kFive ? 320 : 256;
  static constexpr uint32_t kOffset = T == DType::Q4_0 ? 8 : T == DType::Q5_0 ? 16 : T == DType::Q8_0 ? 128 : 0;
  // then the 16 scales, then the 16 minimums
  static constexpr int64_t kBlockBytes = kQuantBytes + 2 * kBlockPanelRows * (kMin ? 2 : 1);
  static void unpack(const uint8_t* q, __m512i w[8]) {
    if constexpr (T == DType::Q8_0) {
      for (int g = 0; g < 8; ++g) w[g] = _mm512_loadu_si512(q + 64 * g);
    } else {
      const __m512i low4 = _mm512_set1_epi8(0x0F);
      for (int g = 0; g < 4; ++g) {
        const __m512i raw = _mm512_loadu_si512(q + 64 * g);
        w[g] = _mm512_and_si512(raw, low4);
        w[g + 4] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
      }
      if constexpr (kFive) {  // bit i of each byte is vector i's fifth bit (regroup_fifth_bits)
        const __m512i h = _mm512_loadu_si512(q + 256), bit4 = _mm512_set1_epi8(0x10);
        for (int i = 0; i < 8; ++i) w[i] = _mm512_or_si512(w[i], _mm512_and_si512(shift_bytes(h, 4 - i), bit4));
      }
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
  __m512i lo = PanelType<T>::kOffset == 0 ? _mm512_setzero_si512()
                                          : _mm512_set1_epi32(static_cast<int32_t>(0u - PanelType<T>::kOffset * static_cast<uint32_t>(xb.sum)));
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
    const auto* scales = reinterpret_cast<const __m256i*>(block + PanelType<T>::kQuantBytes);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(scales));
    __m512 mw;
    if constexpr (PanelType<T>::kMin) mw = _mm512_cvtph_ps(_mm256_loadu_si256(scales + 1));
    for (int t = 0; t < TT; ++t) {
      const XBlockQ8_0& xb = x[t * ldx + b];
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(block_dot<T>(w, xb)), _mm512_mul_ps(dw, _mm512_set1_ps(xb.d)), acc[t]);
      if constexpr (PanelType<T>::kMin) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(xb.d * static_cast<float>(xb.sum)), acc[t]);
    }
  }
  for (int t = 0; t < TT; ++t) _mm512_mask_storeu_ps(y + t * ldy, valid, acc[t]);
}

// The low or the high nibble of each byte.
inline __m512i nibbles(__m512i v, bool high) {
  return _mm512_and_si512(high ? _mm512_srli_epi16(v, 4) : v, _mm512_set1_epi8(0x0F));
}

// Q5_K's values of sub-block j from its quant vector q and fifth-bit vector h (bit j to bit 4).
inline __m512i q5_k_values(__m512i q, __m512i h, int j) {
  return _mm512_or_si512(nibbles(q, j % 2 != 0), _mm512_and_si512(shift_bytes(h, 4 - j), _mm512_set1_epi8(0x10)));
}

// Q6_K's values of part j (0..3) of a half from its ql vector l and qh vector h (bits 2j, 2j + 1
// to bits 4, 5).
inline __m512i q6_k_values(__m512i l, __m512i h, int j) {
  return _mm512_or_si512(nibbles(l, j >= 2), _mm512_and_si512(shift_bytes(h, 4 - 2 * j), _mm512_set1_epi8(0x30)));
}

// Q4_K and Q5_K (block of 256 columns = 8 sub-blocks of 32; layout in kernels/matmul.h). Q4_K:
// 32 vectors of 16 rows' quant bytes, vector 8c + g holding bytes 4g..4g+3 of each row's 32-byte
// chunk c (low nibbles: sub-block 2c, high: 2c + 1). Q5_K: per word g, the vector of qh bytes
// 4g..4g+3 (bit j: the fifth bit of sub-block j) and then the 4 chunks' vectors of word g. Then
// the 8 sub-blocks' scales and minimums as bytes (16 each), then d and dmin (float16). A value is
// d * sc_j * q - dmin * m_j, so per x row the block is d * dx * sum_j sc_j * (q . x)_j - dmin * dx
// * sum_j m_j * (sum of x)_j, both sums exact in int32 (at most 8 * 63 * 32 * 31 * 127 and
// 8 * 63 * 32 * 127).
template <bool Five>
struct QK45 {
  static constexpr int64_t kQuant = Five ? 2560 : 2048, kSub = 128, kBlock = kQuant + 2 * kSub + 64;
  // Vector g of sub-block j's values, 0..15 or 0..31.
  static __m512i values(const uint8_t* block, int j, int g) {
    const __m512i raw = _mm512_loadu_si512(block + 64 * (Five ? 5 * g + 1 + j / 2 : 8 * (j / 2) + g));
    if constexpr (Five) return q5_k_values(raw, _mm512_loadu_si512(block + 64 * 5 * g), j);
    return nibbles(raw, j % 2 != 0);
  }
};

// Q5_K, a lone x row: each block's integer sum in address order (word by word, all 8 sub-blocks at
// once) rather than sub-block by sub-block, which swept each block 8 times and read from memory
// 1.5x slower than in place; the same integers (exact), so the same bits as in a batch.
inline __m512i q5_k_lone_block(const uint8_t* block, const XBlockQ8K& xb) {
  __m512i dot[8];
  for (int j = 0; j < 8; ++j) dot[j] = _mm512_setzero_si512();
  for (int g = 0; g < 8; ++g) {
    const __m512i h = _mm512_loadu_si512(block + 64 * 5 * g);
    for (int j = 0; j < 8; j += 2) {  // the low and high nibbles of chunk j / 2
      const __m512i raw = _mm512_loadu_si512(block + 64 * (5 * g + 1 + j / 2));
      dot[j] = _mm512_dpbusd_epi32(dot[j], q5_k_values(raw, h, j), x_word(xb.q + 32 * j + 4 * g));
      dot[j + 1] = _mm512_dpbusd_epi32(dot[j + 1], q5_k_values(raw, h, j + 1), x_word(xb.q + 32 * (j + 1) + 4 * g));
    }
  }
  const uint8_t* sub = block + QK45<true>::kQuant;
  __m512i isum = _mm512_setzero_si512();
  for (int j = 0; j < 8; ++j) {
    const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sub + 16 * j)));
    isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(sc, dot[j]));
  }
  return isum;
}

template <bool Five, int TT>
inline void qk45_tile(const uint8_t* panel, int64_t nb, const XBlockQ8K* x, int64_t ldx, float* y, int64_t ldy,
                      __mmask16 valid) {
  using L = QK45<Five>;
  __m512 acc[TT];
  for (int t = 0; t < TT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* block = panel + b * L::kBlock;
    const uint8_t* sub = block + L::kQuant;
    __m512i isum[TT];
    if constexpr (Five && TT == 1) {
      isum[0] = q5_k_lone_block(block, x[b]);
    } else {
      for (int t = 0; t < TT; ++t) isum[t] = _mm512_setzero_si512();
      for (int j = 0; j < 8; ++j) {
        __m512i w[8];
        for (int g = 0; g < 8; ++g) w[g] = L::values(block, j, g);
        const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sub + 16 * j)));
        for (int t = 0; t < TT; ++t) {
          const int8_t* xq = x[t * ldx + b].q + 32 * j;
          __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
          for (int g = 0; g < 4; ++g) {
            lo = _mm512_dpbusd_epi32(lo, w[g], x_word(xq + 4 * g));
            hi = _mm512_dpbusd_epi32(hi, w[g + 4], x_word(xq + 16 + 4 * g));
          }
          isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(sc, _mm512_add_epi32(lo, hi)));
        }
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sub + 2 * L::kSub)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sub + 2 * L::kSub + 32)));
    for (int t = 0; t < TT; ++t) {
      const XBlockQ8K& xb = x[t * ldx + b];
      __m512i msum = _mm512_setzero_si512();
      for (int j = 0; j < 8; ++j) {
        const __m512i m = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sub + L::kSub + 16 * j)));
        msum = _mm512_add_epi32(msum, _mm512_mullo_epi32(m, _mm512_set1_epi32(xb.sum32[j])));
      }
      const __m512 dx = _mm512_set1_ps(xb.d);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, dx), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, dx), acc[t]);
    }
  }
  for (int t = 0; t < TT; ++t) _mm512_mask_storeu_ps(y + t * ldy, valid, acc[t]);
}

// Q6_K (block of 256 columns = 2 halves of 4 parts of 32; layout in kernels/matmul.h): per half
// and word g, the vectors of 16 rows' low-bit bytes (ql) of parts 0/2 and 1/3 and of their
// high-bit bytes (qh), then the 16 sub-blocks' int8 scales (16 rows each), then d (float16). Value 32j + l of half h (l < 32) is
// the low (j < 2) or high nibble of ql byte 64h + 32(j % 2) + l with bits 2j, 2j + 1 of qh byte
// 32h + l above it, minus 32, times scale 8h + 2j + l / 16. Per x row the block is d * dx * sum_k
// sc_k * ((q . x)_k - 32 * (sum of x)_k), exact in int32 (at most 16 * 128 * 16 * 32 * 127).
constexpr int64_t kQ6KLow = 2048, kQ6KHigh = 1024, kQ6KScales = 256, kQ6KBlock = kQ6KLow + kQ6KHigh + kQ6KScales + 32;

// The 6-bit values of part j (0..3) of a half whose 24 vectors start at `half`.
template <int J>
inline void q6_k_unpack(const uint8_t* half, __m512i w[8]) {
  for (int g = 0; g < 8; ++g)
    w[g] = q6_k_values(_mm512_loadu_si512(half + 64 * (3 * g + J % 2)), _mm512_loadu_si512(half + 64 * (3 * g + 2)), J);
}

template <int TT, int J>
inline void q6_k_part(const uint8_t* block, int half, const XBlockQ8K* x, int64_t ldx, int64_t b, __m512i isum[TT]) {
  __m512i w[8];
  q6_k_unpack<J>(block + 64 * 24 * half, w);
  const int k = 8 * half + 2 * J;  // the sub-blocks of values 0..15 and 16..31
  const uint8_t* scales = block + kQ6KLow + kQ6KHigh;
  const __m512i sa = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * k)));
  const __m512i sb = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * (k + 1))));
  for (int t = 0; t < TT; ++t) {
    const XBlockQ8K& xb = x[t * ldx + b];
    const int8_t* xq = xb.q + 128 * half + 32 * J;
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    for (int g = 0; g < 4; ++g) {
      lo = _mm512_dpbusd_epi32(lo, w[g], x_word(xq + 4 * g));
      hi = _mm512_dpbusd_epi32(hi, w[g + 4], x_word(xq + 16 + 4 * g));
    }
    lo = _mm512_sub_epi32(lo, _mm512_slli_epi32(_mm512_set1_epi32(xb.sum16[k]), 5));
    hi = _mm512_sub_epi32(hi, _mm512_slli_epi32(_mm512_set1_epi32(xb.sum16[k + 1]), 5));
    isum[t] = _mm512_add_epi32(isum[t], _mm512_add_epi32(_mm512_mullo_epi32(sa, lo), _mm512_mullo_epi32(sb, hi)));
  }
}

// A lone x row's block sum: the same integers as q6_k_part's, summed in another order (exact), so
// that each vector is loaded once and in address order: from memory (the 1B LM head, 215 MB) that
// read 1.2-1.6x faster than four passes over each half, and ql and qh side by side in the panel
// 1.9x faster than in two regions of it.
inline __m512i q6_k_lone_block(const uint8_t* block, const XBlockQ8K& xb) {
  const uint8_t* scales = block + kQ6KLow + kQ6KHigh;
  __m512i isum = _mm512_setzero_si512();
  for (int half = 0; half < 2; ++half) {
    __m512i dot[8];  // sub-blocks 8 * half + 0..7
    for (int k = 0; k < 8; ++k) dot[k] = _mm512_setzero_si512();
    const uint8_t* v = block + 64 * 24 * half;
    const int8_t* xq = xb.q + 128 * half;
    for (int g = 0; g < 8; ++g) {
      const __m512i l[2] = {_mm512_loadu_si512(v + 64 * (3 * g)), _mm512_loadu_si512(v + 64 * (3 * g + 1))};
      const __m512i h = _mm512_loadu_si512(v + 64 * (3 * g + 2));
      for (int j = 0; j < 4; ++j)
        dot[2 * j + g / 4] = _mm512_dpbusd_epi32(dot[2 * j + g / 4], q6_k_values(l[j % 2], h, j), x_word(xq + 32 * j + 4 * g));
    }
    for (int k = 0; k < 8; ++k) {
      const int kk = 8 * half + k;
      const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * kk)));
      const __m512i d = _mm512_sub_epi32(dot[k], _mm512_slli_epi32(_mm512_set1_epi32(xb.sum16[kk]), 5));
      isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(sc, d));
    }
  }
  return isum;
}

template <int TT>
inline void q6_k_tile(const uint8_t* panel, int64_t nb, const XBlockQ8K* x, int64_t ldx, float* y, int64_t ldy,
                      __mmask16 valid) {
  __m512 acc[TT];
  for (int t = 0; t < TT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* block = panel + b * kQ6KBlock;
    __m512i isum[TT];
    if constexpr (TT == 1) {
      isum[0] = q6_k_lone_block(block, x[b]);
    } else {
      for (int t = 0; t < TT; ++t) isum[t] = _mm512_setzero_si512();
      for (int half = 0; half < 2; ++half) {
        q6_k_part<TT, 0>(block, half, x, ldx, b, isum);
        q6_k_part<TT, 1>(block, half, x, ldx, b, isum);
        q6_k_part<TT, 2>(block, half, x, ldx, b, isum);
        q6_k_part<TT, 3>(block, half, x, ldx, b, isum);
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kQ6KLow + kQ6KHigh + kQ6KScales)));
    for (int t = 0; t < TT; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, _mm512_set1_ps(x[t * ldx + b].d)), acc[t]);
  }
  for (int t = 0; t < TT; ++t) _mm512_mask_storeu_ps(y + t * ldy, valid, acc[t]);
}

// TT rows of x from row t against one panel of type T.
template <DType T, int TT>
inline void tile(const MatmulArgs& a, const uint8_t* panel, int64_t nb, int64_t t, float* y, __mmask16 valid) {
  if constexpr (T == DType::Q4_K || T == DType::Q5_K) qk45_tile<T == DType::Q5_K, TT>(panel, nb, a.x_q8k + t * nb, nb, y, a.ldy, valid);
  else if constexpr (T == DType::Q6_K) q6_k_tile<TT>(panel, nb, a.x_q8k + t * nb, nb, y, a.ldy, valid);
  else panel_tile<T, TT>(panel, nb, a.x_q8_0s + t * nb, nb, y, a.ldy, valid);
}

// Weight rows [n0, n1) of type T from their panels.
template <DType T>
void rows_from_panels(const MatmulArgs& a, int64_t n0, int64_t n1) {
  const int64_t nb = a.K / dtype_block_elements(T), stride = block_panel_bytes(T, a.K);
  const auto* all = static_cast<const uint8_t*>(a.panels);
  for (int64_t p0 = n0; p0 < n1; p0 += kBlockPanelRows) {
    const uint8_t* panel = all + p0 / kBlockPanelRows * stride;
    const int64_t left = n1 - p0;
    const auto valid = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1);
    float* y = a.y + p0;
    int64_t t = 0;
    for (; t + kTileT <= a.T; t += kTileT) tile<T, kTileT>(a, panel, nb, t, y + t * a.ldy, valid);
    float* yt = y + t * a.ldy;
    switch (a.T - t) {
      case 1: tile<T, 1>(a, panel, nb, t, yt, valid); break;
      case 2: tile<T, 2>(a, panel, nb, t, yt, valid); break;
      case 3: tile<T, 3>(a, panel, nb, t, yt, valid); break;
      case 4: tile<T, 4>(a, panel, nb, t, yt, valid); break;
      case 5: tile<T, 5>(a, panel, nb, t, yt, valid); break;
      case 6: tile<T, 6>(a, panel, nb, t, yt, valid); break;
      case 7: tile<T, 7>(a, panel, nb, t, yt, valid); break;
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
  else if (a.dtype == DType::Q4_1) rows_from_panels<DType::Q4_1>(a, n0, n1);
  else if (a.dtype == DType::Q5_0) rows_from_panels<DType::Q5_0>(a, n0, n1);
  else if (a.dtype == DType::Q5_1) rows_from_panels<DType::Q5_1>(a, n0, n1);
  else if (a.dtype == DType::Q8_0) rows_from_panels<DType::Q8_0>(a, n0, n1);
  else if (a.dtype == DType::Q4_K) rows_from_panels<DType::Q4_K>(a, n0, n1);
  else if (a.dtype == DType::Q5_K) rows_from_panels<DType::Q5_K>(a, n0, n1);
  else if (a.dtype == DType::Q6_K) rows_from_panels<DType::Q6_K>(a, n0, n1);
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
