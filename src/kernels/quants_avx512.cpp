// AVX-512 widening of the block types Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K, 16 elements at a
// time, rounding exactly as the scalar reference (quants.cpp: an integer converted to float, then
// a multiply and an add or subtract, each rounded; this file is compiled without multiply-add
// contraction): tested bit for bit against it. Matrix products widen a row with it just before
// multiplying, so a token of a Q4_K_M model no longer waits on the scalar loop (2.9 tok/s on the
// 1B shape before). Compiled for AVX-512 through a pragma placed after every #include (see
// matmul_avx512.cpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/matmul_internal.h"
#include "kernels/quants.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
#endif

namespace optipfair::detail {
namespace {

template <class Block>
Block load(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof b);
  return b;
}

// 16 bytes as 16 int32 lanes.
inline __m512i bytes16(const uint8_t* p) {
  return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m512 to_float(__m512i v) { return _mm512_cvtepi32_ps(v); }
inline __m512i low4(__m512i v) { return _mm512_and_si512(v, _mm512_set1_epi32(0x0F)); }
inline __m512i high4(__m512i v) { return _mm512_srli_epi32(v, 4); }

// Lane j holds bit (first + j) of qh, moved to bit 4 (the fifth bit of a 5-bit quant).
inline __m512i fifth_bits(uint32_t qh, int first) {
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i shifted = _mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(qh)), _mm512_add_epi32(lanes, _mm512_set1_epi32(first)));
  return _mm512_slli_epi32(_mm512_and_si512(shifted, _mm512_set1_epi32(1)), 4);
}

void q4_0(const uint8_t* p, float* y) {
  const auto b = load<BlockQ4_0>(p);
  const __m512 d = _mm512_set1_ps(f16_to_f32(b.d));
  const __m512i q = bytes16(b.qs), eight = _mm512_set1_epi32(8);
  _mm512_storeu_ps(y, _mm512_mul_ps(to_float(_mm512_sub_epi32(low4(q), eight)), d));
  _mm512_storeu_ps(y + 16, _mm512_mul_ps(to_float(_mm512_sub_epi32(high4(q), eight)), d));
}

void q4_1(const uint8_t* p, float* y) {
  const auto b = load<BlockQ4_1>(p);
  const __m512 d = _mm512_set1_ps(f16_to_f32(b.d)), m = _mm512_set1_ps(f16_to_f32(b.m));
  const __m512i q = bytes16(b.qs);
  _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(to_float(low4(q)), d), m));
  _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(to_float(high4(q)), d), m));
}

void q5_0(const uint8_t* p, float* y) {
  const auto b = load<BlockQ5_0>(p);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  const __m512 d = _mm512_set1_ps(f16_to_f32(b.d));
  const __m512i q = bytes16(b.qs), sixteen = _mm512_set1_epi32(16);
  const __m512i x0 = _mm512_or_si512(low4(q), fifth_bits(qh, 0)), x1 = _mm512_or_si512(high4(q), fifth_bits(qh, 16));
  _mm512_storeu_ps(y, _mm512_mul_ps(to_float(_mm512_sub_epi32(x0, sixteen)), d));
  _mm512_storeu_ps(y + 16, _mm512_mul_ps(to_float(_mm512_sub_epi32(x1, sixteen)), d));
}

void q5_1(const uint8_t* p, float* y) {
  const auto b = load<BlockQ5_1>(p);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  const __m512 d = _mm512_set1_ps(f16_to_f32(b.d)), m = _mm512_set1_ps(f16_to_f32(b.m));
  const __m512i q = bytes16(b.qs);
  const __m512i x0 = _mm512_or_si512(low4(q), fifth_bits(qh, 0)), x1 = _mm512_or_si512(high4(q), fifth_bits(qh, 16));
  _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(to_float(x0), d), m));
  _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(to_float(x1), d), m));
}

// Scale and minimum of sub-block j (of 8), as quants.cpp's scale_min_k4.
inline void scale_min(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// d1 * q - m1 for 16 quants.
inline void store_k(float* y, __m512i q, float d1, float m1) {
  _mm512_storeu_ps(y, _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(d1), to_float(q)), _mm512_set1_ps(m1)));
}

void q4_k(const uint8_t* p, float* y) {
  const auto b = load<BlockQ4_K>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int j = 0, is = 0; j < kQKBlockSize; j += 64, is += 2, y += 64) {
    uint8_t sc, m;
    scale_min(is, b.scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min(is + 1, b.scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    const uint8_t* q = b.qs + j / 2;
    for (int h = 0; h < 32; h += 16) {
      const __m512i v = bytes16(q + h);
      store_k(y + h, low4(v), d1, m1);
      store_k(y + 32 + h, high4(v), d2, m2);
    }
  }
}

void q5_k(const uint8_t* p, float* y) {
  const auto b = load<BlockQ5_K>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int j = 0, is = 0, bit = 0; j < kQKBlockSize; j += 64, is += 2, bit += 2, y += 64) {
    uint8_t sc, m;
    scale_min(is, b.scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min(is + 1, b.scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    const uint8_t* ql = b.qs + j / 2;
    for (int h = 0; h < 32; h += 16) {
      const __m512i v = bytes16(ql + h), hb = bytes16(b.qh + h);
      // (qh & u ? 16 : 0) for u = 1 << bit (low nibbles) and 2 << bit (high nibbles).
      const __m512i h1 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, bit), _mm512_set1_epi32(1)), 4);
      const __m512i h2 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, bit + 1), _mm512_set1_epi32(1)), 4);
      store_k(y + h, _mm512_add_epi32(low4(v), h1), d1, m1);
      store_k(y + 32 + h, _mm512_add_epi32(high4(v), h2), d2, m2);
    }
  }
}

void q6_k(const uint8_t* p, float* y) {
  const auto b = load<BlockQ6_K>(p);
  const float d = f16_to_f32(b.d);
  const __m512i bias = _mm512_set1_epi32(32), three = _mm512_set1_epi32(3);
  for (int n = 0; n < kQKBlockSize; n += 128, y += 128) {
    const uint8_t* ql = b.ql + n / 2;
    const uint8_t* qh = b.qh + n / 4;
    const int8_t* sc = b.scales + n / 16;
    for (int h = 0; h < 32; h += 16) {
      const __m512i l0 = bytes16(ql + h), l1 = bytes16(ql + 32 + h), hh = bytes16(qh + h);
      auto six = [&](__m512i low, int shift) {
        return _mm512_sub_epi32(_mm512_or_si512(low, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hh, shift), three), 4)), bias);
      };
      const int is = h / 16;
      auto put = [&](float* out, __m512i q, int s) {
        _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_set1_ps(d * static_cast<float>(sc[s])), to_float(q)));
      };
      put(y + h, six(low4(l0), 0), is);
      put(y + 32 + h, six(low4(l1), 2), is + 2);
      put(y + 64 + h, six(high4(l0), 4), is + 4);
      put(y + 96 + h, six(high4(l1), 6), is + 6);
    }
  }
}

}  // namespace

void dequantize_blocks_avx512(DType t, const uint8_t* src, float* dst, int64_t n) {
  void (*f)(const uint8_t*, float*) = nullptr;
  switch (t) {
    case DType::Q4_0: f = q4_0; break;
    case DType::Q4_1: f = q4_1; break;
    case DType::Q5_0: f = q5_0; break;
    case DType::Q5_1: f = q5_1; break;
    case DType::Q4_K: f = q4_k; break;
    case DType::Q5_K: f = q5_k; break;
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
