// AVX-512 matmul kernels. Only called after a runtime CPU check, so the whole
// file is compiled for AVX-512 through a pragma placed AFTER every #include:
// inline functions from headers then keep the baseline target and the linker
// can never pick an AVX-512 copy of them for code that runs on older CPUs
// (which per-file flags such as -mavx512f would allow). Clang ignores
// `#pragma GCC target`; its `#pragma clang attribute` gives every function
// defined in the region the same target attribute.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/matmul_internal.h"

// GCC 12's AVX-512 intrinsics fill unused lanes from a deliberately
// uninitialised _mm512_undefined_*() value, which -Wuninitialized then reports
// at every inlined call (GCC bug 105593); nothing here reads such a lane.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
#endif

#include "kernels/avx512_row_sum.h"

namespace optipfair::detail {
namespace {

// Micro-tile: kTileT rows of x against kTileN weight rows, 16 elements of K
// per step: 24 float32 accumulators + 4 widened weight vectors + 1 x vector
// fit the 32 zmm registers, and each weight vector, once widened, serves
// kTileT rows of x.
constexpr int kTileN = 4;
constexpr int kTileT = 6;

// Loads 16 consecutive weights starting at element k of a row as float32.
// Masked lanes read no memory and come back as zero (kMasked = false: all 16).
template <DType DT, bool kMasked>
inline __m512 load_w16(const uint8_t* row, int64_t k, __mmask16 m) {
  if constexpr (DT == DType::F32) {
    const float* p = reinterpret_cast<const float*>(row) + k;
    return kMasked ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p);
  } else if constexpr (DT == DType::BF16 || DT == DType::F16) {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + k;
    __m256i h = kMasked ? _mm256_maskz_loadu_epi16(m, p)
                        : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    // bf16 is the top half of a float32: widening is a zero-extend and a shift.
    if constexpr (DT == DType::BF16)
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    else
      return _mm512_cvtph_ps(h);
  } else {
    // Q8_0 (K is a multiple of 32, so never masked): k is at a half block.
    // q * scale is exact in float32 (8 + 11 significant bits).
    const uint8_t* blk = row + static_cast<size_t>(k / kQ8BlockSize) * sizeof(BlockQ8_0);
    uint16_t s16;
    std::memcpy(&s16, blk, 2);
    __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2 + k % kQ8BlockSize));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), _mm512_set1_ps(_cvtsh_ss(s16)));
  }
}

// Sums each of four vectors; every lane of the result goes through the same
// addition tree, so a value does not depend on its position in the tile (and
// hence not on how the rows were split over threads).
inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  auto to128 = [](__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 s = _mm256_add_ps(lo, hi);
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  };
  __m128 a4 = to128(a), b4 = to128(b), c4 = to128(c), d4 = to128(d);
  return _mm_hadd_ps(_mm_hadd_ps(a4, b4), _mm_hadd_ps(c4, d4));
}

// Pulls the next block of weight rows towards L1 while the current block is
// being multiplied: with several x rows each block is used for a long time, so the
// hardware prefetcher (which follows the current stream) is not yet fetching
// it when the block switch would otherwise stall on memory.
inline void prefetch_rows(const uint8_t* first, size_t row_bytes, int rows, size_t bytes) {
  for (int j = 0; j < rows; ++j)
    for (size_t off = 0; off < bytes; off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(first + j * row_bytes + off), _MM_HINT_T0);
}

// y[t, 0..nvalid) for TT rows of x against the kTileN rows in wr (rows past
// nvalid repeat the last valid row and are not stored).
// Writes (or, for the later K blocks, adds) the TT x nvalid dot products.
template <int TT>
inline void store_tile(const __m512 (&acc)[TT][kTileN], float* y, int64_t ldy, int nvalid,
                       bool accumulate) {
  const __mmask8 m = static_cast<__mmask8>((1u << nvalid) - 1);
  for (int t = 0; t < TT; ++t) {
    __m128 r = reduce4(acc[t][0], acc[t][1], acc[t][2], acc[t][3]);
    if (accumulate) r = _mm_add_ps(_mm_maskz_loadu_ps(m, y + t * ldy), r);
    _mm_mask_storeu_ps(y + t * ldy, m, r);
  }
}


template <DType DT, int TT>
inline void tile_f32(const float* x, int64_t ldx, int64_t K, const uint8_t* const* wr, float* y,
                     int64_t ldy, int nvalid, bool accumulate) {
  __m512 acc[TT][kTileN];
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < kTileN; ++j) acc[t][j] = _mm512_setzero_ps();

  auto step = [&](int64_t k, __mmask16 m, auto masked) __attribute__((always_inline)) {
    constexpr bool kMasked = decltype(masked)::value;
    __m512 wv[kTileN];
    for (int j = 0; j < kTileN; ++j) wv[j] = load_w16<DT, kMasked>(wr[j], k, m);
    for (int t = 0; t < TT; ++t) {
      const float* xp = x + t * ldx + k;
      __m512 xv = kMasked ? _mm512_maskz_loadu_ps(m, xp) : _mm512_loadu_ps(xp);
      for (int j = 0; j < kTileN; ++j) acc[t][j] = _mm512_fmadd_ps(xv, wv[j], acc[t][j]);
    }
  };
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) step(k, 0, std::false_type{});
  if (k < K) step(k, static_cast<__mmask16>((1u << (K - k)) - 1), std::true_type{});
  store_tile<TT>(acc, y, ldy, nvalid, accumulate);
}

// Token generation (T == 1) reads every weight once and is bound by memory bandwidth. It reads
// one row at a time, start to end, so each thread's reads form a single sequential stream that the
// hardware prefetchers follow, where a tile reads 4 rows side by side (4 streams a row apart, each
// restarting at every tile). The arithmetic is a tile's, in the same order: K blocks of kKBlock,
// one accumulator per block, reduce4's tree, the blocks added into y one after another. So a row
// of x gives the same bits alone (T == 1) as inside any batch, which is what lets evaluation
// results not depend on which requests were batched together (or on MPI ranks).
template <DType DT>
inline float row_dot(const uint8_t* row, const float* x, int64_t K) {
  float y = 0;
  for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
    const int64_t k1 = K - k0 < kKBlock ? K : k0 + kKBlock;
    __m512 acc = _mm512_setzero_ps();
    int64_t k = k0;
    for (; k + 16 <= k1; k += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), load_w16<DT, false>(row, k, 0), acc);
    if (k < k1) {
      const auto m = static_cast<__mmask16>((1u << (k1 - k)) - 1);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), load_w16<DT, true>(row, k, m), acc);
    }
    y = k0 > 0 ? y + reduce1(acc) : reduce1(acc);
  }
  return y;
}

template <DType DT>
void rows_f32(const MatmulArgs& a, int64_t n0, int64_t n1) {
  if (a.T == 1) {
    for (int64_t n = n0; n < n1; ++n) a.y[n] = row_dot<DT>(a.w + static_cast<size_t>(n) * a.row_bytes, a.x, a.K);
    return;
  }
  for (int64_t k0 = 0; k0 < a.K; k0 += kKBlock) {
    const int64_t klen = a.K - k0 < kKBlock ? a.K - k0 : kKBlock;
    const size_t woff = dtype_bytes(DT, k0);
    const bool accumulate = k0 > 0;
    for (int64_t n = n0; n < n1; n += kTileN) {
      const uint8_t* wr[kTileN];
      for (int j = 0; j < kTileN; ++j)
        wr[j] = a.w + static_cast<size_t>(n + j < n1 ? n + j : n1 - 1) * a.row_bytes + woff;
      int nvalid = static_cast<int>(n1 - n < kTileN ? n1 - n : kTileN);
      if (n + kTileN < n1)
        prefetch_rows(wr[0] + kTileN * a.row_bytes, a.row_bytes,
                      static_cast<int>(n1 - n - kTileN < kTileN ? n1 - n - kTileN : kTileN),
                      dtype_bytes(DT, klen));
      int64_t t = 0;
      for (; t + kTileT <= a.T; t += kTileT)
        tile_f32<DT, kTileT>(a.x + t * a.K + k0, a.K, klen, wr, a.y + t * a.ldy + n, a.ldy, nvalid,
                             accumulate);
      const float* xt = a.x + t * a.K + k0;
      float* yt = a.y + t * a.ldy + n;
      switch (a.T - t) {
        case 1: tile_f32<DT, 1>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 2: tile_f32<DT, 2>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 3: tile_f32<DT, 3>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 4: tile_f32<DT, 4>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 5: tile_f32<DT, 5>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        default: break;
      }
    }
  }
}

}  // namespace

void matmul_rows_avx512(const MatmulArgs& a, int64_t n0, int64_t n1) {
  switch (a.dtype) {
    case DType::F32: rows_f32<DType::F32>(a, n0, n1); break;
    case DType::F16: rows_f32<DType::F16>(a, n0, n1); break;
    case DType::BF16: rows_f32<DType::BF16>(a, n0, n1); break;
    case DType::Q8_0: rows_f32<DType::Q8_0>(a, n0, n1); break;
    default: break;  // other block types are widened first (matmul_dequant.cpp)
  }
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// The bf16 dot-product path needs AVX512_BF16 on top of the above; it is a
// separate target region because some AVX-512 CPUs (Skylake-X) lack it.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c")
#endif

namespace optipfair::detail {
namespace {

// Both x and w are bf16 here, so one 512-bit load of each covers 32 elements
// and _mm512_dpbf16_ps does the 32 multiply-adds (pairs summed into 16 lanes)
// with no widening work at all.
constexpr int kTileTBf16 = 6;

template <int TT>
inline void tile_bf16(const uint16_t* x, int64_t ldx, int64_t K, const uint8_t* const* wr,
                      float* y, int64_t ldy, int nvalid, bool accumulate) {
  __m512 acc[TT][kTileN];
  for (int t = 0; t < TT; ++t)
    for (int j = 0; j < kTileN; ++j) acc[t][j] = _mm512_setzero_ps();
  auto step = [&](int64_t k, __mmask32 m, auto masked) __attribute__((always_inline)) {
    auto load = [&](const void* p) __attribute__((always_inline)) {
      if constexpr (decltype(masked)::value) return _mm512_maskz_loadu_epi16(m, p);
      else return _mm512_loadu_si512(p);
    };
    __m512i wv[kTileN];
    for (int j = 0; j < kTileN; ++j) wv[j] = load(reinterpret_cast<const uint16_t*>(wr[j]) + k);
    for (int t = 0; t < TT; ++t) {
      __m512i xv = load(x + t * ldx + k);
      for (int j = 0; j < kTileN; ++j)
        acc[t][j] = _mm512_dpbf16_ps(acc[t][j], (__m512bh)xv, (__m512bh)wv[j]);
    }
  };
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) step(k, 0, std::false_type{});
  if (k < K) step(k, static_cast<__mmask32>((1u << (K - k)) - 1), std::true_type{});
  store_tile<TT>(acc, y, ldy, nvalid, accumulate);
}

// Token generation (T == 1), one row at a time in tile_bf16's order (see row_dot above). With bf16
// x, a 64-byte line of weights costs one load and one dot-product instruction instead of two
// widenings, two shifts and two multiply-adds: the float32 path measured about 25 % below this
// machine's plain read rate, this one at it (docs/performance_forward.md).
inline float row_dot_bf16(const uint8_t* row, const uint16_t* x, int64_t K) {
  const auto* w = reinterpret_cast<const uint16_t*>(row);
  float y = 0;
  for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
    const int64_t k1 = K - k0 < kKBlock ? K : k0 + kKBlock;
    __m512 acc = _mm512_setzero_ps();
    int64_t k = k0;
    for (; k + 32 <= k1; k += 32)
      acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(x + k), (__m512bh)_mm512_loadu_si512(w + k));
    if (k < k1) {
      const auto m = static_cast<__mmask32>((1u << (k1 - k)) - 1);
      acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_maskz_loadu_epi16(m, x + k), (__m512bh)_mm512_maskz_loadu_epi16(m, w + k));
    }
    y = k0 > 0 ? y + reduce1(acc) : reduce1(acc);
  }
  return y;
}

}  // namespace

void matmul_rows_avx512bf16(const MatmulArgs& a, int64_t n0, int64_t n1) {
  if (a.T == 1) {
    for (int64_t n = n0; n < n1; ++n) a.y[n] = row_dot_bf16(a.w + static_cast<size_t>(n) * a.row_bytes, a.x_bf16, a.K);
    return;
  }
  for (int64_t k0 = 0; k0 < a.K; k0 += kKBlock) {
    const int64_t klen = a.K - k0 < kKBlock ? a.K - k0 : kKBlock;
    const bool accumulate = k0 > 0;
    for (int64_t n = n0; n < n1; n += kTileN) {
      const uint8_t* wr[kTileN];
      for (int j = 0; j < kTileN; ++j)
        wr[j] = a.w + static_cast<size_t>(n + j < n1 ? n + j : n1 - 1) * a.row_bytes + 2 * k0;
      int nvalid = static_cast<int>(n1 - n < kTileN ? n1 - n : kTileN);
      if (n + kTileN < n1)
        prefetch_rows(wr[0] + kTileN * a.row_bytes, a.row_bytes,
                      static_cast<int>(n1 - n - kTileN < kTileN ? n1 - n - kTileN : kTileN),
                      static_cast<size_t>(klen) * 2);
      int64_t t = 0;
      for (; t + kTileTBf16 <= a.T; t += kTileTBf16)
        tile_bf16<kTileTBf16>(a.x_bf16 + t * a.K + k0, a.K, klen, wr, a.y + t * a.ldy + n, a.ldy,
                              nvalid, accumulate);
      const uint16_t* xt = a.x_bf16 + t * a.K + k0;
      float* yt = a.y + t * a.ldy + n;
      switch (a.T - t) {
        case 1: tile_bf16<1>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 2: tile_bf16<2>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 3: tile_bf16<3>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 4: tile_bf16<4>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        case 5: tile_bf16<5>(xt, a.K, klen, wr, yt, a.ldy, nvalid, accumulate); break;
        default: break;
      }
    }
  }
}

void convert_f32_to_bf16_avx512bf16(uint16_t* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), (__m256i)h);
  }
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
    _mm256_mask_storeu_epi16(dst + i, m, (__m256i)h);
  }
}

}  // namespace optipfair::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
