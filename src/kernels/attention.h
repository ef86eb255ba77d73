// Attention over a run of cached positions, the inner loop of the forward pass.
//
// attention_rows is the fast version: the query vectors that share one key/value head (the heads
// of a GQA group, over a block of positions) are scored against tiles of 64 keys transposed once,
// so every dot product is plain vertical FMAs; compiled for AVX-512 / AVX2 and picked at run time.
// attention_head_naive is its oracle: one query, in-order double sums.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace optipfair {

// One query vector and the keys it sees: positions [first, first + count) of k/v, count >= 1.
struct AttentionRow {
  const float* q;
  float* out;
  int64_t first = 0;
  int64_t count = 1;
};

// Per-thread buffers of attention_rows, reused from call to call.
struct AttentionScratch {
  std::vector<float> scores, keys_t, acc;
};

// out = softmax(scale * q . k_t over the row's positions) weighted sum of v_t, for every row. Key
// and value rows of position t start at k + t * stride and v + t * stride (the KV cache's layout).
void attention_rows(std::span<const AttentionRow> rows, const float* k, const float* v, int64_t stride, int64_t hd,
                    float scale, AttentionScratch& scratch);

void attention_head_naive(float* out, const float* q, const float* k, const float* v, int64_t n, int64_t stride,
                          int64_t hd, float scale);

}  // namespace optipfair
