// Attention over a run of cached positions, the inner loop of the forward pass.
//
// attention_rows is the fast version: the query vectors that share one key/value head (the heads
// of a GQA group, over a block of positions) go through the keys a tile of 64 at a time (flash
// attention's order): the tile is transposed once so the scores are vertical FMAs, an online
// softmax turns them into weights, and the weighted values are summed while the tile is in L1.
// No buffer grows with the number of positions. Compiled for AVX-512 / AVX2, picked at run time.
// attention_head_naive is its oracle: one query, a whole softmax, in-order double sums.
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
  struct Span {
    int64_t a = 0, b = 0;  // a row's positions in the current tile, relative to its start
  };
  std::vector<float> scores, keys_t, values, acc, row_max;
  std::vector<double> row_sum;
  std::vector<Span> spans;
};

// out = softmax(scale * q . k_t over the row's positions) weighted sum of v_t, for every row. Key
// and value rows of position t start at k + t * stride and v + t * stride (the KV cache's layout).
// softcap > 0 soft-caps each scaled score to softcap * tanh(score / softcap) first (Gemma 2).
void attention_rows(std::span<const AttentionRow> rows, const float* k, const float* v, int64_t stride, int64_t hd,
                    float scale, AttentionScratch& scratch, float softcap = 0.0f);

void attention_head_naive(float* out, const float* q, const float* k, const float* v, int64_t n, int64_t stride,
                          int64_t hd, float scale, float softcap = 0.0f);

}  // namespace optipfair
