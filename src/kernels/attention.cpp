#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/exp_nonpositive.h"

namespace optipfair {

namespace {

constexpr int64_t kTile = 64;  // keys per tile: four 16-float vectors of scores
// 16 floats; may sit anywhere a float may (no alignment, may alias float). Loads and stores are
// written out as casts: a helper returning v16 changes the ABI without AVX-512, which GCC warns of.
typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));

// One tile's positions [a, b) of one row, relative to the tile's start; a >= b when the row sees
// none of them.
using TileSpan = AttentionScratch::Span;
constexpr int kMaxRows = 4;  // rows in a group at most (kRows in attention_tiles)

// One level of a 16 x 16 transpose by block swaps: for rows i and i + D (i & D == 0), the top-right
// D x D blocks trade places with the bottom-left ones. Levels 8, 4, 2, 1 make the transpose.
template <int D, size_t... J>
__attribute__((always_inline)) inline void swap_blocks(v16* r, std::index_sequence<J...>) {
  for (int i = 0; i < 16; ++i) {
    if (i & D) continue;
    const v16 a = r[i], b = r[i + D];
    r[i] = __builtin_shufflevector(a, b, ((J & D) ? 16 + J - D : J)...);
    r[i + D] = __builtin_shufflevector(a, b, ((J & D) ? 16 + J : J + D)...);
  }
}

// dst[j * kTile + i] = src[i * stride + j] for i, j < 16: 64 two-vector shuffles where the scalar
// copy took 256 loads and 256 stores, for every tile of every block of query positions.
__attribute__((always_inline)) inline void transpose_16x16(float* dst, const float* src, int64_t stride) {
  v16 r[16];
  for (int i = 0; i < 16; ++i) r[i] = *reinterpret_cast<const v16*>(src + i * stride);
  swap_blocks<8>(r, std::make_index_sequence<16>{});
  swap_blocks<4>(r, std::make_index_sequence<16>{});
  swap_blocks<2>(r, std::make_index_sequence<16>{});
  swap_blocks<1>(r, std::make_index_sequence<16>{});
  for (int j = 0; j < 16; ++j) *reinterpret_cast<v16*>(dst + j * kTile) = r[j];
}

// s_r[t] = scale * q_r . k_t for kRows rows and the tile's 64 keys, transposed in kt ([hd x 64]):
// each dimension is one broadcast per row and four vertical FMAs, the key vectors loaded once
// for all kRows rows.
template <int kRows>
__attribute__((always_inline)) inline void tile_scores(float* s, const AttentionRow* rows, const float* kt, int64_t hd,
                                                       float scale) {
  v16 acc[kRows][4] = {};
  for (int64_t d = 0; d < hd; ++d) {
    const float* krow = kt + d * kTile;
    const v16 k0 = *reinterpret_cast<const v16*>(krow);
    const v16 k1 = *reinterpret_cast<const v16*>(krow + 16);
    const v16 k2 = *reinterpret_cast<const v16*>(krow + 32);
    const v16 k3 = *reinterpret_cast<const v16*>(krow + 48);
    for (int r = 0; r < kRows; ++r) {
      const float qd = rows[r].q[d];
      acc[r][0] += qd * k0;
      acc[r][1] += qd * k1;
      acc[r][2] += qd * k2;
      acc[r][3] += qd * k3;
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int i = 0; i < 4; ++i) *reinterpret_cast<v16*>(s + r * kTile + 16 * i) = acc[r][i] * scale;
}

// acc_r += sum over t in [a, b) of p_r[t] * v_t for kRows rows whose head is 16 * kVecs floats:
// the sums stay in registers for the tile and each value vector is loaded once for all rows.
template <int kVecs, int kRows>
__attribute__((always_inline)) inline void tile_values(float* acc, const float* p, const float* v, int64_t a,
                                                       int64_t b) {
  constexpr int64_t hd = 16 * kVecs;
  v16 sum[kRows][kVecs];
  for (int r = 0; r < kRows; ++r)
    for (int i = 0; i < kVecs; ++i) sum[r][i] = *reinterpret_cast<const v16*>(acc + r * hd + 16 * i);
  for (int64_t t = a; t < b; ++t) {
    const float* vt = v + t * hd;
    v16 vv[kVecs];
    for (int i = 0; i < kVecs; ++i) vv[i] = *reinterpret_cast<const v16*>(vt + 16 * i);
    for (int r = 0; r < kRows; ++r) {
      const float pt = p[r * kTile + t];
      for (int i = 0; i < kVecs; ++i) sum[r][i] += pt * vv[i];
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int i = 0; i < kVecs; ++i) *reinterpret_cast<v16*>(acc + r * hd + 16 * i) = sum[r][i];
}

// The same for any head size, one row at a time with the sums in memory.
inline void tile_values_any(float* __restrict acc, const float* p, const float* v, int64_t a, int64_t b, int64_t hd) {
  for (int64_t t = a; t < b; ++t) {
    const float* __restrict vt = v + t * hd;
    const float pt = p[t];
#pragma omp simd
    for (int64_t d = 0; d < hd; ++d) acc[d] += pt * vt[d];
  }
}

// Online softmax step for one row: its scores in the tile (s, 64 entries, [a, b) valid) become
// weights against the row's running maximum, and what was summed so far is rescaled when the
// maximum grows. Entries outside [a, b) become 0, so a group's shared value loop may run over them.
inline void softmax_step(float* s, TileSpan span, float& row_max, double& row_sum, float* acc, int64_t hd) {
  // Entries outside the span become -inf, and the tile's maximum is taken in 16 lanes (a scalar
  // max is a 64-step dependency chain, as long as the FMAs of the scores).
  v16 lanes = {};
  lanes -= INFINITY;
  for (int64_t i = 0; i < kTile; i += 16) {
    v16 x = *reinterpret_cast<const v16*>(s + i);
    for (int j = 0; j < 16; ++j)
      if (i + j < span.a || i + j >= span.b) x[j] = -INFINITY;
    *reinterpret_cast<v16*>(s + i) = x;
    lanes = x > lanes ? x : lanes;
  }
  float mt = lanes[0];
  for (int j = 1; j < 16; ++j) mt = lanes[j] > mt ? lanes[j] : mt;
  const float m = std::max(row_max, mt);
  // -inf - -inf is NaN, which exp_nonpositive maps to 0 like -inf: a row with nothing but -inf
  // scores sums to 0 and its output is zeros (see attention_rows).
  const float c = exp_nonpositive(row_max - m);
  float tile_sum = 0.0f;
#pragma omp simd reduction(+ : tile_sum)
  for (int64_t t = 0; t < kTile; ++t) {
    // Every argument is <= 0 or NaN (inf - inf), what exp_nonpositive is defined for; the -inf
    // entries outside the span give exactly 0.
    s[t] = exp_nonpositive(s[t] - m);
    tile_sum += s[t];
  }
  if (c != 1.0f) {
#pragma omp simd
    for (int64_t d = 0; d < hd; ++d) acc[d] *= c;
  }
  row_sum = row_sum * c + tile_sum;
  row_max = m;
}

// kRows consecutive rows against one tile: scores, softmax step, weighted values. The scores take
// all kRows rows at once (4 sums a row); the weighted values kValueRows at a time (kVecs sums a row),
// over the union of the rows' spans (their weights are 0 outside their own).
template <int kVecs, int kRows, int kValueRows>
__attribute__((always_inline)) inline void tile_rows_group(const AttentionRow* rows, const TileSpan* spans, float* s,
                                                           float* acc, float* row_max, double* row_sum,
                                                           const float* kt, const float* v_tile, int64_t hd,
                                                           float scale, float softcap) {
  static_assert(kRows % kValueRows == 0);
  int64_t a = kTile, b = 0;
  for (int r = 0; r < kRows; ++r)
    if (spans[r].a < spans[r].b) a = std::min(a, spans[r].a), b = std::max(b, spans[r].b);
  if (a >= b) return;
  tile_scores<kRows>(s, rows, kt, hd, scale);
  if (softcap > 0.0f) {
    const float inv = 1.0f / softcap;
#pragma omp simd
    for (int64_t i = 0; i < kRows * kTile; ++i) s[i] = softcap * tanh_via_exp(s[i] * inv);
  }
  for (int r = 0; r < kRows; ++r)
    softmax_step(s + r * kTile, spans[r], row_max[r], row_sum[r], acc + r * hd, hd);
  if constexpr (kVecs > 0) {
    for (int r = 0; r < kRows; r += kValueRows)
      tile_values<kVecs, kValueRows>(acc + r * hd, s + r * kTile, v_tile, a, b);
  } else {
    for (int r = 0; r < kRows; ++r) tile_values_any(acc + r * hd, s + r * kTile, v_tile, a, b, hd);
  }
}

// Every tile of keys, each row group by group: rows share a key tile's loads in the scores and a
// value tile's loads in the weighted sums, so both loops are FMA-bound rather than load-bound.
// Rows per group: as many as keep the sums in registers beside the loaded vectors, with enough
// independent sums to cover the FMAs' latency: 16 with AVX-512's 32 registers (four rows of 64
// floats measured 1.4x faster than two), 8 with AVX2's 16.
template <int kVecs, bool kWide>
__attribute__((always_inline)) inline void attention_tiles(std::span<const AttentionRow> rows, const float* k,
                                                           const float* v, int64_t stride, int64_t hd, float scale,
                                                           float softcap, int64_t lo, int64_t hi,
                                                           AttentionScratch& scratch) {
  const auto nr = static_cast<int64_t>(rows.size());
  float* kt = scratch.keys_t.data();
  float* s = scratch.scores.data();
  float* acc = scratch.acc.data();
  float* row_max = scratch.row_max.data();
  double* row_sum = scratch.row_sum.data();
  TileSpan* spans = scratch.spans.data();
  for (int64_t t0 = lo; t0 < hi; t0 += kTile) {
    const int64_t T = std::min(kTile, hi - t0);
    if (T == kTile && hd % 16 == 0) {
      for (int64_t t = 0; t < kTile; t += 16)
        for (int64_t d = 0; d < hd; d += 16) transpose_16x16(kt + d * kTile + t, k + (t0 + t) * stride + d, stride);
    } else {
      for (int64_t t = 0; t < T; ++t) {
        const float* kr = k + (t0 + t) * stride;
        for (int64_t d = 0; d < hd; ++d) kt[d * kTile + t] = kr[d];
      }
    }
    for (int64_t t = T; t < kTile; ++t)
      for (int64_t d = 0; d < hd; ++d) kt[d * kTile + t] = 0.0f;
    for (int64_t j = 0; j < nr; ++j) {
      const AttentionRow& r = rows[static_cast<size_t>(j)];
      spans[j] = {std::max(t0, r.first) - t0, std::min(t0 + T, r.first + r.count) - t0};
    }
    // The tile's values, contiguous: in the cache a key's row is kv_dim floats apart (2 KiB for
    // 8 heads of 64), so the 64 rows of a tile fall into a few L1 sets and evict each other
    // between the row groups that read them.
    float* v_tile = scratch.values.data();
    for (int64_t t = 0; t < T; ++t) {
      const float* __restrict src = v + (t0 + t) * stride;
      float* __restrict dst = v_tile + t * hd;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) dst[d] = src[d];
    }
    constexpr int kRows = kWide ? 4 : 2;
    constexpr int kValueRows = kVecs > 0 ? std::clamp((kWide ? 16 : 8) / kVecs, 1, kRows) : 1;
    int64_t j = 0;
    for (; j + kRows <= nr; j += kRows)
      tile_rows_group<kVecs, kRows, kValueRows>(&rows[static_cast<size_t>(j)], spans + j, s, acc + j * hd,
                                                row_max + j, row_sum + j, kt, v_tile, hd, scale, softcap);
    for (; j < nr; ++j)
      tile_rows_group<kVecs, 1, 1>(&rows[static_cast<size_t>(j)], spans + j, s, acc + j * hd, row_max + j,
                                   row_sum + j, kt, v_tile, hd, scale, softcap);
  }
}

// The row groups for the registers there are. Inlined (as everything here) into each instruction
// set's clone of attention_rows, which is what compiles the vector code for that set.
template <int kVecs>
__attribute__((always_inline)) inline void attention_tiles_isa(std::span<const AttentionRow> rows, const float* k,
                                                               const float* v, int64_t stride, int64_t hd, float scale,
                                                               float softcap, int64_t lo, int64_t hi,
                                                               AttentionScratch& scratch) {
  if (__builtin_cpu_supports("avx512f"))
    attention_tiles<kVecs, true>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch);
  else
    attention_tiles<kVecs, false>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch);
}

}  // namespace

// Long inputs (perplexity over whole documents, thousands of positions) made the old kernel's
// full row of scores and its one-row-at-a-time weighted sums spill out of the caches: each row
// read every value vector from L2 or memory. Here nothing grows with the number of positions but
// the loop count: a 64-key tile is scored, turned into weights by an online softmax (the running
// maximum and sum of each row, earlier sums rescaled when the maximum grows) and folded into the
// rows' weighted sums while its keys and values are in L1.
__attribute__((target_clones("avx512f", "avx2", "default"))) void attention_rows(
    std::span<const AttentionRow> rows, const float* k, const float* v, int64_t stride, int64_t hd, float scale,
    AttentionScratch& scratch, float softcap) {
  if (rows.empty()) return;
  int64_t lo = rows[0].first, hi = rows[0].first + rows[0].count;
  for (const AttentionRow& r : rows) {
    lo = std::min(lo, r.first);
    hi = std::max(hi, r.first + r.count);
  }
  const auto nr = static_cast<size_t>(rows.size());
  scratch.scores.resize(kMaxRows * static_cast<size_t>(kTile));
  scratch.keys_t.resize(static_cast<size_t>(hd * kTile));
  scratch.values.resize(static_cast<size_t>(hd * kTile));
  scratch.acc.assign(nr * static_cast<size_t>(hd), 0.0f);
  scratch.row_max.assign(nr, -INFINITY);
  scratch.row_sum.assign(nr, 0.0);
  scratch.spans.resize(nr);

  switch (hd % 16 == 0 ? hd / 16 : 0) {
    case 1: attention_tiles_isa<1>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;
    case 2: attention_tiles_isa<2>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;
    case 4: attention_tiles_isa<4>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;
    case 6: attention_tiles_isa<6>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;
    case 8: attention_tiles_isa<8>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;
    case 16: attention_tiles_isa<16>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;  // Gemma
    default: attention_tiles_isa<0>(rows, k, v, stride, hd, scale, softcap, lo, hi, scratch); break;
  }

  for (size_t j = 0; j < nr; ++j) {
    const float* acc = scratch.acc.data() + j * static_cast<size_t>(hd);
    // A zero sum: every score was -inf, +inf or NaN; zeros say "nothing to attend to" rather than
    // NaN poisoning what follows.
    const double z = scratch.row_sum[j];
    const float inv = z > 0.0 ? static_cast<float>(1.0 / z) : 0.0f;
    for (int64_t d = 0; d < hd; ++d) rows[j].out[d] = acc[d] * inv;
  }
}

void attention_head_naive(float* out, const float* q, const float* k, const float* v, int64_t n, int64_t stride,
                          int64_t hd, float scale, float softcap) {
  std::vector<double> s(static_cast<size_t>(n));
  double mx = -INFINITY;
  for (int64_t t = 0; t < n; ++t) {
    double dot = 0;
    for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(q[d]) * k[t * stride + d];
    s[static_cast<size_t>(t)] = dot * scale;
    if (softcap > 0) s[static_cast<size_t>(t)] = softcap * std::tanh(s[static_cast<size_t>(t)] / softcap);
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
