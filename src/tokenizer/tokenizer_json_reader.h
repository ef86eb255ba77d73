// Reads tokenizer.json with simdjson's on-demand parser, straight from the file's bytes. Llama-3's
// 17 MB file is almost all model.vocab (128k entries) and model.merges (280k pairs): those are
// handed out as views into the text (or, for the few strings with escapes, into the parser's
// buffer), never as a tree or a copy; everything else (a few kilobytes) becomes an ordinary
// nlohmann::json tree. Merges come in a second pass over the same parser, so that they go straight
// into the BPE model (which needs the whole vocabulary first) without being stored in between.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_tables.h"

namespace optipfair {

struct TokenizerJsonDocument {
  nlohmann::json tree;  // with model.vocab and model.merges null when they were read as below
  bool has_vocab = false;
  VocabList vocab;  // in file order; views valid until for_each_merge
};

class TokenizerJsonReader {
 public:
  // simdjson reads whole vectors: this many bytes after the text must be readable.
  static constexpr size_t kPadding = 64;
  // `text` must outlive the reader; `where` names it in errors.
  TokenizerJsonReader(std::string_view text, std::string where);
  ~TokenizerJsonReader();

  // Throws Error on malformed JSON, a vocab id that is not an integer in [0, 2^31), a malformed
  // merge, or model / vocab / merges given twice.
  TokenizerJsonDocument read();
  // After read(): calls add(left, right) for each of model.merges in order. The views stay valid
  // until the reader's next pass or its end. Throws Error on a malformed merge.
  void for_each_merge(const std::function<void(std::string_view, std::string_view)>& add);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace optipfair
