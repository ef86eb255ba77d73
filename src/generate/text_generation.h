// Text in, text out: tokenizer + model + generate(), as `optipfair generate` and the bias tools use it.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generate/generate.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

// HF GenerationConfig defaults, then the model folder's generation_config.json when present;
// EOS from there, else from the model's config, else from the tokenizer.
GenerationConfig generation_config_for_model(const Model& model, const Tokenizer& tokenizer);

// The seed notebook's settings for before/after continuations (fair-prune): the model's config,
// then beam search with 5 beams, no repeated bigram, early stopping, 50 tokens in all (prompt included).
GenerationConfig notebook_beam_config(const Model& model, const Tokenizer& tokenizer);

// The prompt's ids as transformers' tokenizer(prompt) gives them (BOS added when the tokenizer
// adds one). Throws Error for an empty prompt.
std::vector<int32_t> prompt_encode(const Tokenizer& tokenizer, std::string_view prompt);

struct TextResult {
  std::string prompt;
  std::vector<int32_t> prompt_ids;
  std::vector<GeneratedSequence> sequences;
  std::vector<std::string> texts;          // decode(prompt + new tokens, skip special tokens)
  std::vector<std::string> continuations;  // the part of each text after the decoded prompt
};

// Receives, for a single prompt with greedy search or sampling, each new piece of text as soon as
// it can be printed (bytes of an unfinished UTF-8 character wait for the rest).
using TextCallback = std::function<void(std::string_view piece)>;

std::vector<TextResult> generate_text(const Model& model, const Tokenizer& tokenizer,
                                      std::span<const std::string> prompts, const GenerationConfig& config,
                                      const TextCallback& on_text = {});

}  // namespace optipfair
