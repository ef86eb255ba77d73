// Integer dot products for every GGUF block type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)
// in fast mode, with AVX512_VNNI (which every CPU with AVX512_BF16 has): x rounded to 8-bit
// integers per 256 values for the K-quants (quantize_x_q8k) and per 32 for the others
// (quantize_x_q8_0), each weight block's quants multiplied with them by vpdpbusd (64
// multiply-adds an instruction, exact in int32) and scaled once per block. Widening 4- and 6-bit
// quants to float32 costs more instructions than the arithmetic they feed; this is what llama.cpp
// does for the same files.
//
// Every output goes through the same operations in the same order alone and in a batch, so the
// bits do not depend on T (rows_int8). Compiled for AVX-512 through a pragma after every #include
// (see matmul_avx512.cpp for why).
#include <immintrin.h>

#include <cfloat>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16,avx2,fma,f16c")
#endif

#include "kernels/avx512_row_sum.h"

namespace optipfair::detail {
namespace {

inline float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float reduce8(__m256 v) {
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h = _mm_hadd_ps(q, q);
  return _mm_cvtss_f32(_mm_hadd_ps(h, h));
}

// Each type has a block step in two parts: `prepare` unpacks one weight block (quants as bytes,
// scales as 32-bit lanes), `add` multiplies it with one x block into a row's accumulators. A batch
// prepares each weight block once for all its x rows; a lone row runs the same two parts, so the
// same instructions in the same order give the same bits.

// Q4_K and Q5_K: value = d * sc_j * q - dmin * m_j for sub-block j of 32 (q in 0..15, or 0..31
// with Q5_K's fifth bit from qh). The quants are the unsigned operand of vpdpbusd as they are;
// sum_k x_k w_k = d * dx * sum_j sc_j (q . qx)_j - dmin * dx * sum_j m_j * (sum of qx over j).
template <bool kFiveBits>
struct QK45 {
  using Block = std::conditional_t<kFiveBits, BlockQ5_K, BlockQ4_K>;
  static constexpr int64_t kValues = kQKBlockSize;
  static constexpr int64_t kUnitBytes = sizeof(Block);
  static constexpr int kRows = 2;  // 9 registers a unit
  using X = XBlockQ8K;
  static const X* x_of(const MatmulArgs& a) { return a.x_q8k; }
  __m512i w[4], sc[4];  // 64 values each: lanes 0-7 sub-block 2c, lanes 8-15 sub-block 2c + 1
  __m256i mn;
  float d, dmin;

  void prepare(const uint8_t* blk) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    // k_scale_min for all 8 sub-blocks at once, 4 bytes a word: the low 6 bits of bytes 0-3 (scales
    // 0-3) and 4-7 (mins 0-3); scales 4-7 are bytes 8-11's low nibbles with bytes 0-3's top 2 bits
    // above them, mins 4-7 bytes 8-11's high nibbles with bytes 4-7's top 2 bits.
    uint32_t q0, q1, q2;
    std::memcpy(&q0, blk + 4, 4);
    std::memcpy(&q1, blk + 8, 4);
    std::memcpy(&q2, blk + 12, 4);
    const uint32_t sc_hi = (q2 & 0x0F0F0F0Fu) | (((q0 >> 6) & 0x03030303u) << 4);
    const uint32_t mn_hi = ((q2 >> 4) & 0x0F0F0F0Fu) | (((q1 >> 6) & 0x03030303u) << 4);
    const __m128i s8 = _mm_cvtsi64_si128(static_cast<int64_t>((q0 & 0x3F3F3F3Fu) | (uint64_t{sc_hi} << 32)));
    const __m128i m8 = _mm_cvtsi64_si128(static_cast<int64_t>((q1 & 0x3F3F3F3Fu) | (uint64_t{mn_hi} << 32)));
    const __m512i s32 = _mm512_castsi256_si512(_mm256_cvtepu8_epi32(s8));
    mn = _mm256_cvtepu8_epi32(m8);
    const uint8_t* qh = blk + 4 + kKScaleBytes;
    const uint8_t* qs = qh + (kFiveBits ? kQKBlockSize / 8 : 0);
    [[maybe_unused]] __m256i high;
    if constexpr (kFiveBits) high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
      __m256i lo = _mm256_and_si256(raw, low4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      if constexpr (kFiveBits) {
        // Value l of sub-block 2c takes bit 2c of qh[l] as its 16, of sub-block 2c + 1 bit 2c + 1.
        const __m256i bit16 = _mm256_set1_epi8(0x10);
        const __m256i h = _mm256_srli_epi16(high, 2 * c);
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(h, 4), bit16));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(h, 3), bit16));
      }
      w[c] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      const __m512i pick = _mm512_set_epi32(2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1,
                                            2 * c + 1, 2 * c + 1, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c);
      sc[c] = _mm512_permutexvar_epi32(pick, s32);
    }
    d = half(blk);
    dmin = half(blk + 2);
  }

  void add(const XBlockQ8K& x, __m512& acc, __m256& acc_min) const {
    __m512i isum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[c], _mm512_load_si512(x.q + 64 * c));
      isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dot, sc[c]));
    }
    const __m256i imin = _mm256_mullo_epi32(mn, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.sum32)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * x.d), acc);
    acc_min = _mm256_fmadd_ps(_mm256_cvtepi32_ps(imin), _mm256_set1_ps(dmin * x.d), acc_min);
  }
};

// Q6_K: value = d * sc_g * (q - 32) for group g of 16 (q in 0..63, int8 scales). q is the unsigned
// operand; the offset comes back as 32 * sum_g sc_g * (sum of qx over group g).
struct Q6K {
  using Block = BlockQ6_K;
  static constexpr int64_t kValues = kQKBlockSize;
  static constexpr int64_t kUnitBytes = sizeof(Block);
  static constexpr int kRows = 2;  // 9 registers a unit
  using X = XBlockQ8K;
  static const X* x_of(const MatmulArgs& a) { return a.x_q8k; }
  __m512i w[4], sc[4];  // 64 values each; lane i of chunk c covers group 4c + i / 4
  __m512i sc_all;
  float d;

  void prepare(const uint8_t* blk) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m256i bits45 = _mm256_set1_epi8(0x30);
    sc_all = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 3 * kQKBlockSize / 4)));
    for (int h = 0; h < 2; ++h) {
      // Values 128h + 0..31 are ql[0..31] low nibbles with qh bits 0-1, +32..63 ql[32..63] low with
      // bits 2-3, +64..95 ql[0..31] high with bits 4-5, +96..127 ql[32..63] high with bits 6-7.
      const __m512i l = _mm512_loadu_si512(blk + 64 * h);
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQKBlockSize / 2 + 32 * h));
      const __m512i hi0 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(_mm256_slli_epi16(hb, 4), bits45)),
                                             _mm256_and_si256(_mm256_slli_epi16(hb, 2), bits45), 1);
      const __m512i hi1 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(hb, bits45)),
                                             _mm256_and_si256(_mm256_srli_epi16(hb, 2), bits45), 1);
      w[2 * h] = _mm512_or_si512(_mm512_and_si512(l, low4), hi0);
      w[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4), hi1);
    }
    for (int c = 0; c < 4; ++c) {
      const __m512i pick = _mm512_set_epi32(4 * c + 3, 4 * c + 3, 4 * c + 3, 4 * c + 3, 4 * c + 2, 4 * c + 2, 4 * c + 2,
                                            4 * c + 2, 4 * c + 1, 4 * c + 1, 4 * c + 1, 4 * c + 1, 4 * c, 4 * c, 4 * c, 4 * c);
      sc[c] = _mm512_permutexvar_epi32(pick, sc_all);
    }
    d = half(blk + sizeof(BlockQ6_K) - 2);
  }

  void add(const XBlockQ8K& x, __m512& acc, __m256& /*acc_min*/) const {
    __m512i isum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[c], _mm512_load_si512(x.q + 64 * c));
      isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dot, sc[c]));
    }
    const __m512i offset = _mm512_slli_epi32(_mm512_mullo_epi32(sc_all, _mm512_loadu_si512(x.sum16)), 5);
    isum = _mm512_sub_epi32(isum, offset);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * x.d), acc);
  }
};

// The 32-value types, two blocks (64 values, 8 lanes each) a unit against XPairQ8_0: Q8_0 q * d,
// Q4_0 (q - 8) * d, Q5_0 (q - 16) * d with bit j of qh as value j's 16, Q4_1 and Q5_1 q * d + m.
// Their quants (less the _0 types' offsets: -8..7, -16..15) are vpdpbusd's signed side, x its
// unsigned side as qx + 128, and 128 * (sum of the quants) comes off again; each block has its
// own d and dx, so the lanes are scaled one by one. For the _1 types m * dx * (sum of qx) per
// block goes into the second accumulator, negated (it is subtracted).
template <DType T>
struct Block32 {
  static constexpr bool kMin = T == DType::Q4_1 || T == DType::Q5_1;
  static constexpr bool kFive = T == DType::Q5_0 || T == DType::Q5_1;
  static constexpr bool kEight = T == DType::Q8_0;
  static constexpr int64_t kBlockBytes = kEight ? static_cast<int64_t>(sizeof(BlockQ8_0)) : 2 + (kMin ? 2 : 0) + (kFive ? 4 : 0) + 16;
  static constexpr int64_t kValues = 64;
  static constexpr int64_t kUnitBytes = 2 * kBlockBytes;
  static constexpr int kRows = 4;
  using X = XPairQ8_0;
  static const X* x_of(const MatmulArgs& a) { return a.x_q8_0; }
  __m512i w, offset;
  __m512 sw;
  __m256 neg_m;  // -m of each block in lanes 0 and 1

  // A block's 32 quants as bytes in value order: low nibbles are values 0-15, high ones 16-31.
  static __m256i block_quants(const uint8_t* blk) {
    if constexpr (kEight) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    const __m128i low4 = _mm_set1_epi8(0x0F);
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kBlockBytes - 16));
    __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(raw, low4)),
                                        _mm_and_si128(_mm_srli_epi16(raw, 4), low4), 1);
    if constexpr (kFive) {
      uint32_t qh;
      std::memcpy(&qh, blk + (kMin ? 4 : 2), 4);
      q = _mm256_or_si256(q, _mm256_maskz_mov_epi8(qh, _mm256_set1_epi8(0x10)));
    }
    if constexpr (!kMin) q = _mm256_sub_epi8(q, _mm256_set1_epi8(kFive ? 16 : 8));
    return q;
  }

  void prepare(const uint8_t* pair) {
    w = _mm512_inserti64x4(_mm512_castsi256_si512(block_quants(pair)), block_quants(pair + kBlockBytes), 1);
    offset = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(0x80)), w);
    sw = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(half(pair)), _mm512_set1_ps(half(pair + kBlockBytes)));
    if constexpr (kMin) neg_m = _mm256_setr_ps(-half(pair + 2), -half(pair + kBlockBytes + 2), 0, 0, 0, 0, 0, 0);
  }

  void add(const X& x, __m512& acc, __m256& acc_min) const {
    const __m512i isum = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_load_si512(x.q), w), offset);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(sw, _mm512_load_ps(x.s)), acc);
    if constexpr (kMin) {
      const __m256 sums = _mm256_setr_ps(static_cast<float>(x.sum[0]) * x.s[0], static_cast<float>(x.sum[1]) * x.s[8], 0, 0, 0, 0, 0, 0);
      acc_min = _mm256_fmadd_ps(sums, neg_m, acc_min);
    }
  }
};

// Weight rows [n0, n1) against every x row, kRows weight rows at a time: their units are prepared
// once for up to 32 x rows and each x block is loaded once for all of them. Each output sees the
// same operations in the same order whatever T and kRows are. A lone x row (a generated token)
// takes one weight row at a time, a single stream of reads per thread: with Type::kRows there it
// measured 2.4x slower.
template <class Type, int kRows>
void rows_int8(const MatmulArgs& a, int64_t n0, int64_t n1) {
  constexpr int64_t kXRows = 32;  // x rows a pass
  const int64_t nb = a.K / Type::kValues;
  __m512 acc[kXRows][kRows];
  __m256 acc_min[kXRows][kRows];
  Type unit[kRows];
  for (int64_t t0 = 0; t0 < a.T; t0 += kXRows) {
    const int64_t rows = a.T - t0 < kXRows ? a.T - t0 : kXRows;
    const typename Type::X* x = Type::x_of(a) + t0 * nb;
    for (int64_t n = n0; n < n1; n += kRows) {
      const uint8_t* w[kRows];
      for (int j = 0; j < kRows; ++j)  // past n1: the last row again, computed and not stored
        w[j] = a.w + static_cast<size_t>(n + j < n1 ? n + j : n1 - 1) * a.row_bytes;
      for (int64_t t = 0; t < rows; ++t)
        for (int j = 0; j < kRows; ++j) {
          acc[t][j] = _mm512_setzero_ps();
          acc_min[t][j] = _mm256_setzero_ps();
        }
      for (int64_t b = 0; b < nb; ++b) {
        for (int j = 0; j < kRows; ++j) unit[j].prepare(w[j] + b * Type::kUnitBytes);
        for (int64_t t = 0; t < rows; ++t)
          for (int j = 0; j < kRows; ++j) unit[j].add(x[t * nb + b], acc[t][j], acc_min[t][j]);
      }
      for (int64_t t = 0; t < rows; ++t)
        for (int j = 0; j < kRows && n + j < n1; ++j)
          a.y[(t0 + t) * a.ldy + n + j] = reduce1(acc[t][j]) - reduce8(acc_min[t][j]);
    }
  }
}

}  // namespace

void quantize_x_q8k(const float* x, int64_t K, XBlockQ8K* out) {
  for (int64_t b = 0; b < K / kQKBlockSize; ++b, x += kQKBlockSize) {
    __m512 amax = _mm512_setzero_ps();
    __mmask16 nan = 0;
    for (int i = 0; i < 16; ++i) {
      const __m512 v = _mm512_loadu_ps(x + 16 * i);
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v));
    }
    const float m = _mm512_reduce_max_ps(amax);
    const __m512 inv = _mm512_set1_ps(m > 0 && m <= FLT_MAX ? 127.0f / m : 0.0f);
    XBlockQ8K& o = out[b];
    // A NaN or infinity in x makes the block's products NaN, as on the float path.
    o.d = nan || !(m <= FLT_MAX) ? std::numeric_limits<float>::quiet_NaN() : m / 127.0f;
    for (int i = 0; i < 16; ++i) {
      const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * i), inv));  // nearest even
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o.q + 16 * i), _mm512_cvtepi32_epi8(q));
      o.sum16[i] = _mm512_reduce_add_epi32(q);
    }
    for (int j = 0; j < 8; ++j) o.sum32[j] = o.sum16[2 * j] + o.sum16[2 * j + 1];
  }
}

void quantize_x_q8_0(const float* x, int64_t K, XPairQ8_0* out) {
  for (int64_t p = 0; p < K / 64; ++p, x += 64) {
    XPairQ8_0& o = out[p];
    for (int h = 0; h < 2; ++h) {
      const __m512 v0 = _mm512_loadu_ps(x + 32 * h), v1 = _mm512_loadu_ps(x + 32 * h + 16);
      const __mmask16 nan = _mm512_cmp_ps_mask(v0, v0, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
      const float m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
      const __m512 inv = _mm512_set1_ps(m > 0 && m <= FLT_MAX ? 127.0f / m : 0.0f);
      const __m512i bias = _mm512_set1_epi32(128);
      const __m512i r0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, inv)), r1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, inv));
      o.sum[h] = _mm512_reduce_add_epi32(_mm512_add_epi32(r0, r1));
      const __m512i q0 = _mm512_add_epi32(r0, bias), q1 = _mm512_add_epi32(r1, bias);
      _mm_store_si128(reinterpret_cast<__m128i*>(o.q + 32 * h), _mm512_cvtepi32_epi8(q0));
      _mm_store_si128(reinterpret_cast<__m128i*>(o.q + 32 * h + 16), _mm512_cvtepi32_epi8(q1));
      const float d = nan || !(m <= FLT_MAX) ? std::numeric_limits<float>::quiet_NaN() : m / 127.0f;
      _mm256_store_ps(o.s + 8 * h, _mm256_set1_ps(d));
    }
  }
}

void matmul_rows_int8_avx512vnni(const MatmulArgs& a, int64_t n0, int64_t n1) {
  auto run = [&](auto type) {
    using Type = decltype(type);
    if (a.T == 1) rows_int8<Type, 1>(a, n0, n1);
    else rows_int8<Type, Type::kRows>(a, n0, n1);
  };
  if (a.dtype == DType::Q4_K) run(QK45<false>{});
  else if (a.dtype == DType::Q5_K) run(QK45<true>{});
  else if (a.dtype == DType::Q6_K) run(Q6K{});
  else if (a.dtype == DType::Q8_0) run(Block32<DType::Q8_0>{});
  else if (a.dtype == DType::Q4_0) run(Block32<DType::Q4_0>{});
  else if (a.dtype == DType::Q4_1) run(Block32<DType::Q4_1>{});
  else if (a.dtype == DType::Q5_0) run(Block32<DType::Q5_0>{});
  else if (a.dtype == DType::Q5_1) run(Block32<DType::Q5_1>{});
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
