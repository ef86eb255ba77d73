// Hugging Face's logits processors and warpers, each on one row of vocab_size scores in place.
// Filtered entries become -infinity, as HF's filter_value.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace optipfair {

// RepetitionPenaltyLogitsProcessor: for every token present in `sequence` (prompt included),
// a negative score is multiplied by `penalty` and a positive one divided by it.
void repetition_penalty_apply(std::span<float> scores, std::span<const int32_t> sequence, double penalty);

// NoRepeatNGramLogitsProcessor: the tokens that would complete an n-gram already present in
// `sequence` (prompt included), given its last n-1 tokens. Sorted, without duplicates.
std::vector<int32_t> no_repeat_ngram_banned(std::span<const int32_t> sequence, int64_t n);
void no_repeat_ngram_apply(std::span<float> scores, std::span<const int32_t> sequence, int64_t n);

// TemperatureLogitsWarper.
void temperature_apply(std::span<float> scores, double temperature);
// TopKLogitsWarper: keeps the scores >= the k-th largest (ties at the cut survive).
void top_k_apply(std::span<float> scores, int64_t k, int64_t min_tokens_to_keep = 1);
// TopPLogitsWarper: drops the least likely tokens whose cumulative probability stays <= 1 - top_p.
void top_p_apply(std::span<float> scores, double top_p, int64_t min_tokens_to_keep = 1);

// log(softmax(scores)) in place, accumulated in double.
void log_softmax_apply(std::span<float> scores);

// Index of the largest score (the first one on ties, as torch.argmax).
int32_t argmax(std::span<const float> scores);

}  // namespace optipfair
