#include "generate/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace optipfair {

namespace {
constexpr float kFiltered = -std::numeric_limits<float>::infinity();

bool in_vocab(int32_t id, size_t vocab) { return id >= 0 && static_cast<size_t>(id) < vocab; }
}  // namespace

void repetition_penalty_apply(std::span<float> scores, std::span<const int32_t> sequence, double penalty) {
  if (penalty == 1.0) return;
  const float p = static_cast<float>(penalty);
  // Each distinct token is penalised once, however often it occurs (HF gathers then scatters).
  std::vector<int32_t> seen(sequence.begin(), sequence.end());
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (int32_t id : seen) {
    if (!in_vocab(id, scores.size())) continue;
    float& s = scores[static_cast<size_t>(id)];
    s = s < 0 ? s * p : s / p;
  }
}

std::vector<int32_t> no_repeat_ngram_banned(std::span<const int32_t> sequence, int64_t n) {
  std::vector<int32_t> banned;
  const int64_t len = static_cast<int64_t>(sequence.size());
  if (n <= 0 || len + 1 < n) return banned;
  if (n == 1) {
    banned.assign(sequence.begin(), sequence.end());
  } else {
    const auto tail = sequence.subspan(static_cast<size_t>(len - (n - 1)));
    for (int64_t start = 0; start + n <= len; ++start) {
      const auto prefix = sequence.subspan(static_cast<size_t>(start), static_cast<size_t>(n - 1));
      if (std::equal(prefix.begin(), prefix.end(), tail.begin()))
        banned.push_back(sequence[static_cast<size_t>(start + n - 1)]);
    }
  }
  std::sort(banned.begin(), banned.end());
  banned.erase(std::unique(banned.begin(), banned.end()), banned.end());
  return banned;
}

void no_repeat_ngram_apply(std::span<float> scores, std::span<const int32_t> sequence, int64_t n) {
  for (int32_t id : no_repeat_ngram_banned(sequence, n))
    if (in_vocab(id, scores.size())) scores[static_cast<size_t>(id)] = kFiltered;
}

void temperature_apply(std::span<float> scores, double temperature) {
  if (temperature == 1.0) return;
  const float t = static_cast<float>(temperature);
  for (float& s : scores) s /= t;
}

void top_k_apply(std::span<float> scores, int64_t k, int64_t min_tokens_to_keep) {
  if (k <= 0) return;
  const size_t keep = static_cast<size_t>(std::min<int64_t>(std::max(k, min_tokens_to_keep),
                                                            static_cast<int64_t>(scores.size())));
  if (keep == 0 || keep >= scores.size()) return;
  std::vector<float> sorted(scores.begin(), scores.end());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(keep - 1), sorted.end(),
                   std::greater<float>());
  const float cut = sorted[keep - 1];
  for (float& s : scores)
    if (s < cut) s = kFiltered;
}

void top_p_apply(std::span<float> scores, double top_p, int64_t min_tokens_to_keep) {
  if (top_p >= 1.0 || scores.empty()) return;
  const size_t n = scores.size();
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Ascending, as HF sorts, so that the cumulative sum runs from the least likely token.
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)]; });
  const float top = scores[static_cast<size_t>(order.back())];
  double total = 0;
  std::vector<double> prob(n);
  for (size_t i = 0; i < n; ++i) {
    const float s = scores[static_cast<size_t>(order[i])];
    prob[i] = std::isinf(s) && s < 0 ? 0.0 : std::exp(static_cast<double>(s - top));
    total += prob[i];
  }
  const size_t protected_from = n - std::min<size_t>(n, static_cast<size_t>(std::max<int64_t>(min_tokens_to_keep, 1)));
  double cumulative = 0;
  for (size_t i = 0; i < protected_from; ++i) {
    cumulative += prob[i] / total;
    if (cumulative <= 1.0 - top_p) scores[static_cast<size_t>(order[i])] = kFiltered;
  }
}

void log_softmax_apply(std::span<float> scores) {
  if (scores.empty()) return;
  const float top = *std::max_element(scores.begin(), scores.end());
  if (std::isinf(top) && top < 0) return;  // everything filtered: leave it at -inf
  double sum = 0;
  for (float s : scores) sum += std::exp(static_cast<double>(s) - top);
  const double log_sum = std::log(sum) + top;
  for (float& s : scores) s = static_cast<float>(static_cast<double>(s) - log_sum);
}

int32_t argmax(std::span<const float> scores) {
  return static_cast<int32_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

}  // namespace optipfair
