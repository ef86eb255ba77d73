// The fast attention kernel against its in-order double oracle: head sizes that do and do not fill
// vector registers, strided rows as the KV cache lays them out, rows with different (causal,
// sliding-window) ranges in one call, row counts that do and do not fill the kernel's row groups,
// runs longer than one key tile, and scores whose maximum grows from tile to tile (the online
// softmax's rescaling).
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace optipfair;

namespace {

TEST(AttentionRows, MatchesDoubleOracle) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  AttentionScratch scratch;  // reused across calls of different sizes, as the forward pass does
  for (int64_t hd : {1, 8, 13, 16, 32, 64, 96, 128}) {
    for (int64_t n : {1, 2, 31, 64, 65, 700}) {
      const int64_t stride = hd * 3 + 5;  // rows of a wider cache (several kv heads)
      std::vector<float> k(n * stride), v(n * stride);
      for (float& x : k) x = normal(rng);
      for (float& x : v) x = normal(rng);
      // Causal rows ending at different positions, and one sliding-window row not starting at 0.
      std::vector<std::vector<float>> qs, outs;
      std::vector<AttentionRow> rows;
      std::vector<std::pair<int64_t, int64_t>> ranges = {{0, n}, {0, (n + 1) / 2}, {n / 3, n - n / 3}, {n - 1, 1},
                                                         {n / 2, n - n / 2}};
      for (size_t j = 0; j < ranges.size(); ++j) {
        qs.emplace_back(hd);
        for (float& x : qs.back()) x = 2.0f * normal(rng);
        outs.emplace_back(hd, -1.0f);
      }
      for (size_t j = 0; j < ranges.size(); ++j) rows.push_back({qs[j].data(), outs[j].data(), ranges[j].first, ranges[j].second});
      const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
      attention_rows(rows, k.data() + 2, v.data() + 2, stride, hd, scale, scratch);
      for (size_t j = 0; j < ranges.size(); ++j) {
        std::vector<float> ref(hd);
        const int64_t first = ranges[j].first;
        attention_head_naive(ref.data(), qs[j].data(), k.data() + 2 + first * stride, v.data() + 2 + first * stride,
                             ranges[j].second, stride, hd, scale);
        for (int64_t d = 0; d < hd; ++d)
          ASSERT_NEAR(outs[j][d], ref[d], 2e-5) << "hd " << hd << " n " << n << " row " << j << " d " << d;
      }
    }
  }
}

TEST(AttentionRows, SoftcappedScoresAndWideHeadsMatchOracle) {
  // Gemma 2 caps each scaled score at cap * tanh(score / cap); Gemma's heads are 256 wide.
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  AttentionScratch scratch;
  for (int64_t hd : {32, 256}) {
    for (float cap : {0.0f, 0.5f, 50.0f}) {
      const int64_t n = 150, stride = hd * 2;
      std::vector<float> k(n * stride), v(n * stride);
      for (float& x : k) x = normal(rng);
      for (float& x : v) x = normal(rng);
      std::vector<std::vector<float>> qs(6, std::vector<float>(hd)), outs(6, std::vector<float>(hd));
      std::vector<AttentionRow> rows;
      for (int j = 0; j < 6; ++j) {
        for (float& x : qs[j]) x = 3.0f * normal(rng);
        rows.push_back({qs[j].data(), outs[j].data(), 7 * j, n - 9 * j});
      }
      const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
      attention_rows(rows, k.data(), v.data(), stride, hd, scale, scratch, cap);
      for (int j = 0; j < 6; ++j) {
        std::vector<float> ref(hd);
        attention_head_naive(ref.data(), qs[j].data(), k.data() + 7 * j * stride, v.data() + 7 * j * stride, n - 9 * j,
                             stride, hd, scale, cap);
        for (int64_t d = 0; d < hd; ++d) ASSERT_NEAR(outs[j][d], ref[d], 2e-5) << "hd " << hd << " cap " << cap;
      }
    }
  }
  // The cap must change the result (a kernel ignoring it would pass the loop above only at cap 0).
  const int64_t hd = 32, n = 10;
  std::vector<float> k(n * hd), v(n * hd), q(hd, 1.0f), a(hd), b(hd);
  for (int64_t i = 0; i < n * hd; ++i) k[i] = static_cast<float>(i % 7), v[i] = static_cast<float>(i % 5);
  attention_rows(std::vector<AttentionRow>{{q.data(), a.data(), 0, n}}, k.data(), v.data(), hd, hd, 0.2f, scratch);
  attention_rows(std::vector<AttentionRow>{{q.data(), b.data(), 0, n}}, k.data(), v.data(), hd, hd, 0.2f, scratch, 1.0f);
  EXPECT_GT(std::fabs(a[0] - b[0]), 1e-3);
}

TEST(AttentionRows, LaterTilesWithLargerScoresRescaleEarlierSums) {
  // Scores rise with the position, so every tile raises the running maximum; the last tile holds
  // nearly all the weight. Against the oracle, for several rows sharing the keys.
  const int64_t hd = 64, n = 300;
  std::vector<float> k(n * hd), v(n * hd);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t d = 0; d < hd; ++d) {
      k[t * hd + d] = 0.05f * static_cast<float>(t) * (d % 2 == 0 ? 1.0f : 0.5f);
      v[t * hd + d] = std::sin(0.1f * static_cast<float>(t + d));
    }
  std::vector<std::vector<float>> qs(3, std::vector<float>(hd)), outs(3, std::vector<float>(hd));
  std::vector<AttentionRow> rows;
  for (int j = 0; j < 3; ++j) {
    for (int64_t d = 0; d < hd; ++d) qs[j][d] = 0.1f * static_cast<float>(j + 1);
    rows.push_back({qs[j].data(), outs[j].data(), 0, n - 40 * j});
  }
  AttentionScratch scratch;
  attention_rows(rows, k.data(), v.data(), hd, hd, 0.125f, scratch);
  for (int j = 0; j < 3; ++j) {
    std::vector<float> ref(hd);
    attention_head_naive(ref.data(), qs[j].data(), k.data(), v.data(), n - 40 * j, hd, hd, 0.125f);
    for (int64_t d = 0; d < hd; ++d) ASSERT_NEAR(outs[j][d], ref[d], 2e-5) << "row " << j << " d " << d;
  }
}

TEST(AttentionRows, InfiniteScoresGiveZerosNotNaN) {
  // An overflowed activation makes a score +inf: no finite softmax exists, and NaN would spread
  // through every later layer; the row says "nothing to attend to" instead.
  const int64_t hd = 16, n = 70;
  std::vector<float> q(hd, INFINITY), k(n * hd, 1.0f), v(n * hd, 2.0f), out(hd, -1.0f);
  AttentionScratch scratch;
  const AttentionRow row{q.data(), out.data(), 0, n};
  attention_rows({&row, 1}, k.data(), v.data(), hd, hd, 1.0f, scratch);
  for (float x : out) EXPECT_EQ(x, 0.0f);
}

TEST(AttentionRows, OnePositionReturnsItsValue) {
  const std::vector<float> q = {1, 2, 3}, k = {4, 5, 6}, v = {0.5f, -1.5f, 7};
  std::vector<float> out(3);
  AttentionScratch scratch;
  const AttentionRow row{q.data(), out.data(), 0, 1};
  attention_rows({&row, 1}, k.data(), v.data(), 3, 3, 0.5f, scratch);
  EXPECT_EQ(out, v);
}

TEST(AttentionRows, PeakedScoresPickOneValue) {
  // Key 1 matches the query far better than the others: its value dominates.
  const int64_t hd = 4;
  const std::vector<float> q = {10, 0, 0, 0};
  const std::vector<float> k = {0, 1, 0, 0, 10, 0, 0, 0, -10, 0, 0, 0};
  const std::vector<float> v = {1, 1, 1, 1, 2, 3, 4, 5, 9, 9, 9, 9};
  std::vector<float> out(hd);
  AttentionScratch scratch;
  const AttentionRow row{q.data(), out.data(), 0, 3};
  attention_rows({&row, 1}, k.data(), v.data(), hd, hd, 1.0f, scratch);
  for (int64_t d = 0; d < hd; ++d) EXPECT_NEAR(out[d], v[4 + d], 1e-6);
}

}  // namespace
