// Greedy search, sampling and beam search over any LogitsSource, with Hugging Face
// transformers' semantics (see docs/generation.md for where we knowingly differ).
//
// Several prompts run together: every step feeds all live sequences of all prompts in one
// slots_feed call. Each prompt's result is what it would get alone (no padding effects), and its
// length limit is counted from its own prompt.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "generate/generation_config.h"
#include "generate/logits_source.h"

namespace optipfair {

struct GeneratedSequence {
  std::vector<int32_t> tokens;  // the prompt, then the new tokens (a final EOS included)
  // Beam search: HF's sequence score, sum of log-probabilities / new_length ^ length_penalty.
  // Greedy and sampling: the model's summed log-probability of the new tokens.
  double score = 0;
  bool ended_with_eos = false;
};

struct PromptResult {
  int64_t prompt_length = 0;
  std::vector<GeneratedSequence> sequences;  // best first for beam search; num_return_sequences of them
};

// Called for each new token of greedy search and sampling, as soon as it is chosen.
using TokenCallback = std::function<void(size_t prompt_index, int32_t token)>;

// Throws Error on an empty prompt, a bad config or a prompt that leaves no room to generate.
std::vector<PromptResult> generate(LogitsSource& source, std::span<const std::vector<int32_t>> prompts,
                                   const GenerationConfig& config, const TokenCallback& on_token = {});

}  // namespace optipfair
