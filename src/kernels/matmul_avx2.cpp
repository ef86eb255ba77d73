// AVX2 + FMA + F16C matmul kernels for x86-64 CPUs without AVX-512. Compiled
// for that target through a pragma placed after every #include (see
// matmul_avx512.cpp for why, and for clang's spelling of it), and only called
// after a runtime CPU check.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/matmul_internal.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace optipfair::detail {
namespace {

// 16 ymm registers: 2 x 4 accumulators + 4 weight vectors + 1 x vector.
constexpr int kTileN = 4;
constexpr int kTileT = 2;

// Eight weights from element k of a row, as float32.
template <DType DT>
inline __m256 load_w8(const uint8_t* row, int64_t k) {
  if constexpr (DT == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else if constexpr (DT == DType::BF16) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else if constexpr (DT == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  } else {
    const uint8_t* blk = row + static_cast<size_t>(k / kQ8BlockSize) * sizeof(BlockQ8_0);
    uint16_t s16;
    std::memcpy(&s16, blk, 2);
    __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 2 + k % kQ8BlockSize));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(s16)));
  }
}

// Same addition tree for every lane (results independent of tile position).
inline __m128 reduce4(__m256 a, __m256 b, __m256 c, __m256 d) {
  auto to128 = [](__m256 v) {
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  };
  return _mm_hadd_ps(_mm_hadd_ps(to128(a), to128(b)), _mm_hadd_ps(to128(c), to128(d)));
}

template <DType DT, int TT>
inline void tile(const float* x, int64_t K, const uint8_t* const* wr, float* y, int64_t ldy,
                 int nvalid) {
  __m256 acc[TT][kTileN];
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < kTileN; ++j) acc[t][j] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 wv[kTileN];
    for (int j = 0; j < kTileN; ++j) wv[j] = load_w8<DT>(wr[j], k);
    for (int t = 0; t < TT; ++t) {
      __m256 xv = _mm256_loadu_ps(x + t * K + k);
      for (int j = 0; j < kTileN; ++j) acc[t][j] = _mm256_fmadd_ps(xv, wv[j], acc[t][j]);
    }
  }
  if (k < K) {
    // No masked 16-bit loads in AVX2: copy the last few elements into zeroed
    // buffers (never reached for Q8_0, whose K is a multiple of 32).
    const size_t esize = DT == DType::F32 ? 4 : 2;
    const size_t rem = static_cast<size_t>(K - k);
    alignas(32) uint8_t wbuf[kTileN][32] = {};
    alignas(32) float xbuf[8] = {};
    __m256 wv[kTileN];
    for (int j = 0; j < kTileN; ++j) {
      std::memcpy(wbuf[j], wr[j] + static_cast<size_t>(k) * esize, rem * esize);
      wv[j] = load_w8<DT>(wbuf[j], 0);
    }
    for (int t = 0; t < TT; ++t) {
      std::memcpy(xbuf, x + t * K + k, rem * 4);
      __m256 xv = _mm256_load_ps(xbuf);
      for (int j = 0; j < kTileN; ++j) acc[t][j] = _mm256_fmadd_ps(xv, wv[j], acc[t][j]);
    }
  }
  for (int t = 0; t < TT; ++t) {
    alignas(16) float s[4];
    _mm_store_ps(s, reduce4(acc[t][0], acc[t][1], acc[t][2], acc[t][3]));
    for (int j = 0; j < nvalid; ++j) y[t * ldy + j] = s[j];
  }
}

// Token generation (T == 1): one row at a time, start to end, as a single sequential stream per
// thread, in tile's order (one accumulator, the same tail, reduce4's tree), so a row of x gives the
// same bits alone as in a batch (see row_dot in matmul_avx512.cpp).
template <DType DT>
inline float row_dot(const uint8_t* row, const float* x, int64_t K) {
  __m256 acc = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load_w8<DT>(row, k), acc);
  if (k < K) {
    const size_t esize = DT == DType::F32 ? 4 : 2;
    alignas(32) uint8_t wbuf[32] = {};
    alignas(32) float xbuf[8] = {};
    std::memcpy(wbuf, row + static_cast<size_t>(k) * esize, static_cast<size_t>(K - k) * esize);
    std::memcpy(xbuf, x + k, static_cast<size_t>(K - k) * 4);
    acc = _mm256_fmadd_ps(_mm256_load_ps(xbuf), load_w8<DT>(wbuf, 0), acc);
  }
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 h = _mm_hadd_ps(q, q);
  return _mm_cvtss_f32(_mm_hadd_ps(h, h));
}

template <DType DT>
void rows(const MatmulArgs& a, int64_t n0, int64_t n1) {
  if (a.T == 1) {
    for (int64_t n = n0; n < n1; ++n) a.y[n] = row_dot<DT>(a.w + static_cast<size_t>(n) * a.row_bytes, a.x, a.K);
    return;
  }
  for (int64_t n = n0; n < n1; n += kTileN) {
    const uint8_t* wr[kTileN];
    for (int j = 0; j < kTileN; ++j)
      wr[j] = a.w + static_cast<size_t>(n + j < n1 ? n + j : n1 - 1) * a.row_bytes;
    int nvalid = static_cast<int>(n1 - n < kTileN ? n1 - n : kTileN);
    int64_t t = 0;
    for (; t + kTileT <= a.T; t += kTileT)
      tile<DT, kTileT>(a.x + t * a.K, a.K, wr, a.y + t * a.ldy + n, a.ldy, nvalid);
    if (t < a.T) tile<DT, 1>(a.x + t * a.K, a.K, wr, a.y + t * a.ldy + n, a.ldy, nvalid);
  }
}

}  // namespace

void matmul_rows_avx2(const MatmulArgs& a, int64_t n0, int64_t n1) {
  switch (a.dtype) {
    case DType::F32: rows<DType::F32>(a, n0, n1); break;
    case DType::F16: rows<DType::F16>(a, n0, n1); break;
    case DType::BF16: rows<DType::BF16>(a, n0, n1); break;
    case DType::Q8_0: rows<DType::Q8_0>(a, n0, n1); break;
    default: break;  // other block types are widened first (matmul_dequant.cpp)
  }
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
