// Perplexity of a model on a user's own text file (stories, articles), computed as lm-eval's
// wikitext task computes it (rolling windows, every token predicted, the first one from the prefix
// token), so a figure from `fair-prune --perplexity-text` compares with `eval --tasks wikitext`.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/loglikelihood.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

struct TextPerplexity {
  int64_t documents = 0;
  int64_t tokens = 0;          // tokens predicted (every token of every document)
  int64_t words = 0;           // lm-eval's word count (whitespace runs + 1 per document)
  int64_t bytes = 0;
  double loglikelihood = 0;    // sum over documents, natural log
  double mean_loss = 0;        // -loglikelihood / tokens
  double token_perplexity = 0; // exp(mean_loss)
  double word_perplexity = 0;
  double byte_perplexity = 0;
  double bits_per_byte = 0;
};

// The documents of a text: pieces between "<|endoftext|>" markers, each stripped of surrounding
// whitespace; empty pieces are left out.
std::vector<std::string> split_text_documents(std::string_view text);

// Throws Error when no document holds a token.
TextPerplexity text_perplexity(const Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& documents,
                               const LoglikelihoodOptions& options = {});

// Reads `path` and measures it; a missing or unreadable file is an Error naming it.
TextPerplexity text_file_perplexity(const Model& model, const Tokenizer& tokenizer, const std::string& path,
                                    const LoglikelihoodOptions& options = {});

// {"documents", "tokens_predicted", "mean_loss", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"}
nlohmann::ordered_json text_perplexity_json(const TextPerplexity& p);

}  // namespace optipfair
