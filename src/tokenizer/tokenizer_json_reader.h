// Reads tokenizer.json in one streaming pass: model.vocab and model.merges (hundreds of
// thousands of entries in Llama-3's file) go straight into their final containers instead of a
// JSON tree; everything else becomes an ordinary nlohmann::json tree (with those two as null).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_model.h"

namespace optipfair {

struct TokenizerJsonDocument {
  nlohmann::json tree;
  bool has_vocab = false;
  VocabMap vocab;
  std::vector<std::pair<std::string, std::string>> merges;
};

// Throws Error (naming `where`) on malformed JSON, a non-integer vocab id, or a malformed merge.
TokenizerJsonDocument read_tokenizer_json(const std::string& text, const std::string& where);

}  // namespace optipfair
