// AVX2 widening of the block types Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K, 8 values at a time,
// for CPUs without AVX-512: the same roundings as the scalar reference (quants.cpp: an integer
// converted to float, then a multiply and an add or subtract, each rounded; compiled without
// multiply-add contraction), tested bit for bit against it. Matrix products widen rows with it
// before multiplying (matmul_dequant.cpp). Compiled for AVX2 through a pragma placed after every
// #include (see matmul_avx512.cpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace optipfair::detail {
namespace {

// 8 bytes as 8 int32 lanes.
inline __m256i bytes8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline __m256 to_float(__m256i v) { return _mm256_cvtepi32_ps(v); }
inline __m256i low4(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi32(0x0F)); }
inline __m256i high4(__m256i v) { return _mm256_srli_epi32(v, 4); }

// Lane j holds bit (first + j) of qh, moved to bit 4.
inline __m256i fifth_bits(uint32_t qh, int first) {
  const __m256i lanes = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(first));
  return _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(qh)), lanes), _mm256_set1_epi32(1)), 4);
}

// (q - offset) * d for the legacy symmetric types, q * d + m for the ones with a minimum.
inline __m256 scaled(__m256i q, int offset, float d) {
  return _mm256_mul_ps(to_float(_mm256_sub_epi32(q, _mm256_set1_epi32(offset))), _mm256_set1_ps(d));
}
inline __m256 scaled_plus(__m256i q, float d, float m) {
  return _mm256_add_ps(_mm256_mul_ps(to_float(q), _mm256_set1_ps(d)), _mm256_set1_ps(m));
}

void q4_0(const uint8_t* p, float* y) {
  const auto b = load_block<BlockQ4_0>(p);
  const float d = f16_to_f32(b.d);
  for (int h = 0; h < 16; h += 8) {
    const __m256i q = bytes8(b.qs + h);
    _mm256_storeu_ps(y + h, scaled(low4(q), 8, d));
    _mm256_storeu_ps(y + 16 + h, scaled(high4(q), 8, d));
  }
}

void q4_1(const uint8_t* p, float* y) {
  const auto b = load_block<BlockQ4_1>(p);
  const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
  for (int h = 0; h < 16; h += 8) {
    const __m256i q = bytes8(b.qs + h);
    _mm256_storeu_ps(y + h, scaled_plus(low4(q), d, m));
    _mm256_storeu_ps(y + 16 + h, scaled_plus(high4(q), d, m));
  }
}

template <class Block>
void q5(const uint8_t* p, float* y) {
  const auto b = load_block<Block>(p);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  const float d = f16_to_f32(b.d);
  for (int h = 0; h < 16; h += 8) {
    const __m256i q = bytes8(b.qs + h);
    const __m256i x0 = _mm256_or_si256(low4(q), fifth_bits(qh, h)), x1 = _mm256_or_si256(high4(q), fifth_bits(qh, 16 + h));
    if constexpr (std::is_same_v<Block, BlockQ5_0>) {
      _mm256_storeu_ps(y + h, scaled(x0, 16, d));
      _mm256_storeu_ps(y + 16 + h, scaled(x1, 16, d));
    } else {
      const float m = f16_to_f32(b.m);
      _mm256_storeu_ps(y + h, scaled_plus(x0, d, m));
      _mm256_storeu_ps(y + 16 + h, scaled_plus(x1, d, m));
    }
  }
}

// d1 * q - m1, the K-quants' value of level q.
inline __m256 k_value(__m256i q, float d1, float m1) {
  return _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(d1), to_float(q)), _mm256_set1_ps(m1));
}

// Q4_K (kBits 4) and Q5_K (kBits 5, the fifth bits in qh).
template <class Block, int kBits>
void qk(const uint8_t* p, float* y) {
  const auto b = load_block<Block>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int j = 0, is = 0; j < kQKBlockSize; j += 64, is += 2, y += 64) {
    uint8_t sc, m;
    k_scale_min(is, b.scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    k_scale_min(is + 1, b.scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int h = 0; h < 32; h += 8) {
      const __m256i v = bytes8(b.qs + j / 2 + h);
      __m256i lo = low4(v), hi = high4(v);
      if constexpr (kBits == 5) {  // (qh & u ? 16 : 0) with u = 1 << is (low) and 2 << is (high)
        const __m256i hb = bytes8(b.qh + h), one = _mm256_set1_epi32(1);
        lo = _mm256_or_si256(lo, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hb, is), one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hb, is + 1), one), 4));
      }
      _mm256_storeu_ps(y + h, k_value(lo, d1, m1));
      _mm256_storeu_ps(y + 32 + h, k_value(hi, d2, m2));
    }
  }
}

void q6_k(const uint8_t* p, float* y) {
  const auto b = load_block<BlockQ6_K>(p);
  const float d = f16_to_f32(b.d);
  const __m256i bias = _mm256_set1_epi32(32), three = _mm256_set1_epi32(3);
  for (int n = 0; n < kQKBlockSize; n += 128, y += 128) {
    const uint8_t* ql = b.ql + n / 2;
    const uint8_t* qh = b.qh + n / 4;
    const int8_t* sc = b.scales + n / 16;
    for (int r = 0; r < 4; ++r)  // quarter r: low or high nibbles of ql[0..31] or ql[32..63], bits 2r, 2r + 1 of qh
      for (int h = 0; h < 32; h += 8) {
        const __m256i l = bytes8(ql + (r & 1) * 32 + h), hh = bytes8(qh + h);
        const __m256i nib = r < 2 ? low4(l) : high4(l);
        const __m256i q = _mm256_sub_epi32(
            _mm256_or_si256(nib, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hh, 2 * r), three), 4)), bias);
        const float ds = d * static_cast<float>(sc[h / 16 + 2 * r]);
        _mm256_storeu_ps(y + 32 * r + h, _mm256_mul_ps(_mm256_set1_ps(ds), to_float(q)));
      }
  }
}

}  // namespace

void dequantize_blocks_avx2(DType t, const uint8_t* src, float* dst, int64_t n) {
  void (*f)(const uint8_t*, float*) = nullptr;
  switch (t) {
    case DType::Q4_0: f = q4_0; break;
    case DType::Q4_1: f = q4_1; break;
    case DType::Q5_0: f = q5<BlockQ5_0>; break;
    case DType::Q5_1: f = q5<BlockQ5_1>; break;
    case DType::Q4_K: f = qk<BlockQ4_K, 4>; break;
    case DType::Q5_K: f = qk<BlockQ5_K, 5>; break;
    case DType::Q6_K: f = q6_k; break;
    default: dequantize_blocks(t, src, dst, n); return;
  }
  const int64_t be = dtype_block_elements(t);
  const size_t bb = dtype_block_bytes(t);
  for (int64_t i = 0; i < n; i += be, src += bb, dst += be) f(src, dst);
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
