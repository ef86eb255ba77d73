// AVX-512 widening of the block types Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K, 16 values at a
// time, rounding exactly as the scalar reference (quants.cpp: an integer converted to float, then
// a multiply and an add or subtract, each rounded; this file is compiled without multiply-add
// contraction): tested bit for bit against it. Prompts widen a work item's rows into a buffer with
// it; a generated token's rows are widened in registers and multiplied at once (rows_dot_blocks). On
// the Llama-3.2-1B shape in Q4_K_M this took generation from 2.9 tok/s (the scalar loop) to the
// figures in docs/performance_forward.md. Compiled for AVX-512 through a pragma placed after every
// standard #include (see matmul_avx512.cpp).
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

#include "kernels/avx512_row_sum.h"

namespace optipfair::detail {
namespace {

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

// Each visitor hands f(offset, w) the block's values 16 at a time, in ascending order (the order a
// tile sums them in), computed as quants.cpp does. A type with few levels per scale reads its
// values from a table of all levels (d1 * q - m1 for q = 0..15, rounded as the scalar code rounds
// each): one permute instead of a conversion, a multiply and a subtraction per 16 values.
inline __m512 iota16() { return _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }

template <class F>
void visit_q4_0(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ4_0>(p);
  const __m512 tbl = _mm512_mul_ps(_mm512_sub_ps(iota16(), _mm512_set1_ps(8)), _mm512_set1_ps(f16_to_f32(b.d)));
  const __m512i q = bytes16(b.qs);
  f(0, _mm512_permutexvar_ps(low4(q), tbl));
  f(16, _mm512_permutexvar_ps(high4(q), tbl));
}

template <class F>
void visit_q4_1(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ4_1>(p);
  const __m512 tbl = _mm512_add_ps(_mm512_mul_ps(iota16(), _mm512_set1_ps(f16_to_f32(b.d))), _mm512_set1_ps(f16_to_f32(b.m)));
  const __m512i q = bytes16(b.qs);
  f(0, _mm512_permutexvar_ps(low4(q), tbl));
  f(16, _mm512_permutexvar_ps(high4(q), tbl));
}

template <class F>
void visit_q5_0(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ5_0>(p);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  const __m512 d = _mm512_set1_ps(f16_to_f32(b.d));
  const __m512i q = bytes16(b.qs), sixteen = _mm512_set1_epi32(16);
  const __m512i x0 = _mm512_or_si512(low4(q), fifth_bits(qh, 0)), x1 = _mm512_or_si512(high4(q), fifth_bits(qh, 16));
  f(0, _mm512_mul_ps(to_float(_mm512_sub_epi32(x0, sixteen)), d));
  f(16, _mm512_mul_ps(to_float(_mm512_sub_epi32(x1, sixteen)), d));
}

template <class F>
void visit_q5_1(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ5_1>(p);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  const __m512 d = _mm512_set1_ps(f16_to_f32(b.d)), m = _mm512_set1_ps(f16_to_f32(b.m));
  const __m512i q = bytes16(b.qs);
  const __m512i x0 = _mm512_or_si512(low4(q), fifth_bits(qh, 0)), x1 = _mm512_or_si512(high4(q), fifth_bits(qh, 16));
  f(0, _mm512_add_ps(_mm512_mul_ps(to_float(x0), d), m));
  f(16, _mm512_add_ps(_mm512_mul_ps(to_float(x1), d), m));
}

// d1 * q - m1 for q = 0..15 (and, for Q5_K, 16..31 in hi).
struct KTable {
  __m512 lo, hi;
};
inline KTable k_table(float d, float dmin, int sub, const uint8_t* scales) {
  uint8_t sc, m;
  k_scale_min(sub, scales, sc, m);
  const float d1 = d * sc, m1 = dmin * m;
  const __m512 dv = _mm512_set1_ps(d1), mv = _mm512_set1_ps(m1);
  return {_mm512_sub_ps(_mm512_mul_ps(dv, iota16()), mv),
          _mm512_sub_ps(_mm512_mul_ps(dv, _mm512_add_ps(iota16(), _mm512_set1_ps(16))), mv)};
}

template <class F>
void visit_q4_k(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ4_K>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int j = 0, is = 0; j < kQKBlockSize; j += 64, is += 2) {
    const __m512 t1 = k_table(d, dmin, is, b.scales).lo, t2 = k_table(d, dmin, is + 1, b.scales).lo;
    const __m512i v0 = bytes16(b.qs + j / 2), v1 = bytes16(b.qs + j / 2 + 16);
    f(j, _mm512_permutexvar_ps(low4(v0), t1));
    f(j + 16, _mm512_permutexvar_ps(low4(v1), t1));
    f(j + 32, _mm512_permutexvar_ps(high4(v0), t2));
    f(j + 48, _mm512_permutexvar_ps(high4(v1), t2));
  }
}

template <class F>
void visit_q5_k(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ5_K>(p);
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  for (int j = 0, is = 0, bit = 0; j < kQKBlockSize; j += 64, is += 2, bit += 2) {
    const KTable t1 = k_table(d, dmin, is, b.scales), t2 = k_table(d, dmin, is + 1, b.scales);
    // (qh & u ? 16 : 0) for u = 1 << bit (low nibbles) and 2 << bit (high nibbles).
    auto q5 = [&](const __m512i nib, int h, int shift) {
      const __m512i hb = bytes16(b.qh + h);
      return _mm512_or_si512(nib, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, shift), _mm512_set1_epi32(1)), 4));
    };
    const __m512i v0 = bytes16(b.qs + j / 2), v1 = bytes16(b.qs + j / 2 + 16);
    f(j, _mm512_permutex2var_ps(t1.lo, q5(low4(v0), 0, bit), t1.hi));
    f(j + 16, _mm512_permutex2var_ps(t1.lo, q5(low4(v1), 16, bit), t1.hi));
    f(j + 32, _mm512_permutex2var_ps(t2.lo, q5(high4(v0), 0, bit + 1), t2.hi));
    f(j + 48, _mm512_permutex2var_ps(t2.lo, q5(high4(v1), 16, bit + 1), t2.hi));
  }
}

template <class F>
void visit_q6_k(const uint8_t* p, F&& f) {
  const auto b = load_block<BlockQ6_K>(p);
  const float d = f16_to_f32(b.d);
  const __m512i bias = _mm512_set1_epi32(32), three = _mm512_set1_epi32(3);
  for (int n = 0; n < kQKBlockSize; n += 128) {
    const uint8_t* ql = b.ql + n / 2;
    const uint8_t* qh = b.qh + n / 4;
    const int8_t* sc = b.scales + n / 16;
    // Quarter r of the 128 values: low or high nibbles of ql[0..31] or ql[32..63], bits 2r, 2r + 1 of qh.
    for (int r = 0; r < 4; ++r)
      for (int h = 0; h < 32; h += 16) {
        const __m512i l = bytes16(ql + (r & 1) * 32 + h), hh = bytes16(qh + h);
        const __m512i nib = r < 2 ? low4(l) : high4(l);
        const __m512i q = _mm512_sub_epi32(
            _mm512_or_si512(nib, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hh, 2 * r), three), 4)), bias);
        const int s = h / 16 + 2 * r;
        f(n + 32 * r + h, _mm512_mul_ps(_mm512_set1_ps(d * static_cast<float>(sc[s])), to_float(q)));
      }
  }
}

// The visitor of type T.
template <DType T, class F>
void visit_block(const uint8_t* p, F&& f) {
  if constexpr (T == DType::Q4_0) visit_q4_0(p, f);
  else if constexpr (T == DType::Q4_1) visit_q4_1(p, f);
  else if constexpr (T == DType::Q5_0) visit_q5_0(p, f);
  else if constexpr (T == DType::Q5_1) visit_q5_1(p, f);
  else if constexpr (T == DType::Q4_K) visit_q4_k(p, f);
  else if constexpr (T == DType::Q5_K) visit_q5_k(p, f);
  else visit_q6_k(p, f);
}

// Calls f<T>() for a type with a visitor; false for any other.
template <class F>
bool with_block_type(DType t, F&& f) {
  switch (t) {
    case DType::Q4_0: f.template operator()<DType::Q4_0>(); return true;
    case DType::Q4_1: f.template operator()<DType::Q4_1>(); return true;
    case DType::Q5_0: f.template operator()<DType::Q5_0>(); return true;
    case DType::Q5_1: f.template operator()<DType::Q5_1>(); return true;
    case DType::Q4_K: f.template operator()<DType::Q4_K>(); return true;
    case DType::Q5_K: f.template operator()<DType::Q5_K>(); return true;
    case DType::Q6_K: f.template operator()<DType::Q6_K>(); return true;
    default: return false;
  }
}

// One weight row against one row of x, widening in registers: the values and the order of
// matmul_rows_avx512's row_dot over the widened row (K blocks of kKBlock, one accumulator,
// reduce1), so the same bits as the widen-then-multiply path of a batch. (Four rows side by side,
// four independent chains, measured slower: 8.7 against 12.0 tok/s on the 1B shape in Q4_K_M.)
template <DType T>
float row_dot_blocks(const uint8_t* row, const float* x, int64_t K) {
  constexpr int64_t be = dtype_block_elements(T);
  constexpr size_t bb = dtype_block_bytes(T);
  float y = 0;
  for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
    const int64_t k1 = K - k0 < kKBlock ? K : k0 + kKBlock;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k = k0; k < k1; k += be) {
      const float* xb = x + k;
      visit_block<T>(row + static_cast<size_t>(k / be) * bb,
                     [&](int off, __m512 w) { acc = _mm512_fmadd_ps(_mm512_loadu_ps(xb + off), w, acc); });
    }
    y = k0 > 0 ? y + reduce1(acc) : reduce1(acc);
  }
  return y;
}

}  // namespace

void dequantize_blocks_avx512(DType t, const uint8_t* src, float* dst, int64_t n) {
  const bool done = with_block_type(t, [&]<DType T>() {
    constexpr int64_t be = dtype_block_elements(T);
    for (int64_t i = 0; i < n; i += be)
      visit_block<T>(src + static_cast<size_t>(i / be) * dtype_block_bytes(T),
                     [&](int off, __m512 w) { _mm512_storeu_ps(dst + i + off, w); });
  });
  if (!done) dequantize_blocks(t, src, dst, n);
}

void matmul_rows_blocks_avx512(const MatmulArgs& a, int64_t n0, int64_t n1) {
  with_block_type(a.dtype, [&]<DType T>() {
    for (int64_t n = n0; n < n1; ++n) a.y[n] = row_dot_blocks<T>(a.w + static_cast<size_t>(n) * a.row_bytes, a.x, a.K);
  });
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
