// What the AVX-512 kernels share to sum one row the way a tile does: the K blocks and the addition
// tree of a 16-lane accumulator. Include it after the file's AVX-512 target pragma (see
// matmul_avx512.cpp), as only AVX-512 code may call these.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace optipfair::detail {

// Prompt processing walks K in blocks so that the x panel a work item reuses
// (64 rows x 2048 floats = 512 KB) stays in L2 however large K is; the block
// sums are added into y in a fixed order, independent of the thread split.
constexpr int64_t kKBlock = 2048;

// The sum of one accumulator's 16 lanes by reduce4's addition tree (matmul_avx512.cpp).
inline float reduce1(__m512 v) {
  const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  const __m128 h = _mm_hadd_ps(q, q);
  return _mm_cvtss_f32(_mm_hadd_ps(h, h));
}

}  // namespace optipfair::detail
