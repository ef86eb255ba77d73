#include "kernels/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/elementwise.h"

namespace optipfair {

namespace {

constexpr int64_t kTile = 64;  // keys per tile: four 16-float vectors of scores
// 16 floats; may sit anywhere a float may (no alignment, may alias float).
typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));

// out = sum over t of p[t] * v_t for a head of 16 * kVecs floats, the sums held in registers
// (with a run-time head size the compiler keeps them in memory, a load and a store per key).
template <int kVecs>
__attribute__((always_inline)) inline void weighted_values(float* out, const float* p, const float* v, int64_t count,
                                                           int64_t stride) {
  v16 acc[kVecs] = {};
  for (int64_t t = 0; t < count; ++t) {
    const float* vt = v + t * stride;
    const float pt = p[t];
    for (int k = 0; k < kVecs; ++k) acc[k] += pt * *reinterpret_cast<const v16*>(vt + 16 * k);
  }
  for (int k = 0; k < kVecs; ++k) *reinterpret_cast<v16*>(out + 16 * k) = acc[k];
}

}  // namespace

// A scalar dot product per key made attention, not the matrix products, the cost of long inputs
// (perplexity windows of 2k tokens): float sums cannot be reordered without leave. Transposing a
// tile of keys turns 64 dot products into 4 vector accumulators fed by one broadcast per dimension.
__attribute__((target_clones("avx512f", "avx2", "default"))) void attention_rows(
    std::span<const AttentionRow> rows, const float* k, const float* v, int64_t stride, int64_t hd, float scale,
    AttentionScratch& scratch) {
  if (rows.empty()) return;
  int64_t lo = rows[0].first, hi = rows[0].first + rows[0].count;
  for (const AttentionRow& r : rows) {
    lo = std::min(lo, r.first);
    hi = std::max(hi, r.first + r.count);
  }
  const int64_t n = hi - lo;
  const int64_t nr = static_cast<int64_t>(rows.size());
  scratch.scores.resize(static_cast<size_t>(nr * n));
  scratch.keys_t.resize(static_cast<size_t>(hd * kTile));
  scratch.acc.resize(static_cast<size_t>(hd));
  float* kt = scratch.keys_t.data();

  for (int64_t t0 = lo; t0 < hi; t0 += kTile) {
    const int64_t T = std::min(kTile, hi - t0);
    for (int64_t t = 0; t < T; ++t) {
      const float* kr = k + (t0 + t) * stride;
      for (int64_t d = 0; d < hd; ++d) kt[d * kTile + t] = kr[d];
    }
    for (int64_t t = T; t < kTile; ++t)
      for (int64_t d = 0; d < hd; ++d) kt[d * kTile + t] = 0.0f;
    for (int64_t j = 0; j < nr; ++j) {
      const AttentionRow& r = rows[static_cast<size_t>(j)];
      const int64_t a = std::max(t0, r.first), b = std::min(t0 + T, r.first + r.count);
      if (a >= b) continue;
      v16 s0{}, s1{}, s2{}, s3{};
      for (int64_t d = 0; d < hd; ++d) {
        const float qd = r.q[d];
        const float* row = kt + d * kTile;
        s0 += qd * *reinterpret_cast<const v16*>(row);
        s1 += qd * *reinterpret_cast<const v16*>(row + 16);
        s2 += qd * *reinterpret_cast<const v16*>(row + 32);
        s3 += qd * *reinterpret_cast<const v16*>(row + 48);
      }
      float s[kTile];
      *reinterpret_cast<v16*>(s) = s0;
      *reinterpret_cast<v16*>(s + 16) = s1;
      *reinterpret_cast<v16*>(s + 32) = s2;
      *reinterpret_cast<v16*>(s + 48) = s3;
      float* dst = scratch.scores.data() + j * n - lo;
      for (int64_t t = a; t < b; ++t) dst[t] = s[t - t0] * scale;
    }
  }

  float* __restrict acc = scratch.acc.data();
  for (int64_t j = 0; j < nr; ++j) {
    const AttentionRow& r = rows[static_cast<size_t>(j)];
    float* p = scratch.scores.data() + j * n + (r.first - lo);
    softmax_inplace(p, r.count);
    if (hd == 64) {
      weighted_values<4>(r.out, p, v + r.first * stride, r.count, stride);
      continue;
    }
    if (hd == 128) {
      weighted_values<8>(r.out, p, v + r.first * stride, r.count, stride);
      continue;
    }
    std::fill_n(acc, hd, 0.0f);
    for (int64_t t = 0; t < r.count; ++t) {
      const float* __restrict vt = v + (r.first + t) * stride;
      const float pt = p[t];
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) acc[d] += pt * vt[d];
    }
    std::copy_n(acc, hd, r.out);
  }
}

void attention_head_naive(float* out, const float* q, const float* k, const float* v, int64_t n, int64_t stride,
                          int64_t hd, float scale) {
  std::vector<double> s(static_cast<size_t>(n));
  double mx = -INFINITY;
  for (int64_t t = 0; t < n; ++t) {
    double dot = 0;
    for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(q[d]) * k[t * stride + d];
    s[static_cast<size_t>(t)] = dot * scale;
    mx = std::max(mx, s[static_cast<size_t>(t)]);
  }
  double z = 0;
  for (double& x : s) z += (x = std::exp(x - mx));
  for (int64_t d = 0; d < hd; ++d) {
    double acc = 0;
    for (int64_t t = 0; t < n; ++t) acc += s[static_cast<size_t>(t)] / z * v[t * stride + d];
    out[d] = static_cast<float>(acc);
  }
}

}  // namespace optipfair
