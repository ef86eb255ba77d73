// Tokens matched in raw text before normalisation (Hugging Face's added_tokens, SentencePiece
// control pieces, GGUF control tokens): leftmost-longest matching with lstrip / rstrip /
// single_word handling.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace optipfair {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = true;
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // only matches when not inside a word
  bool normalized = false;   // recorded; matching is always on the raw text (see docs/tokenizers.md)
};

// One piece of split text: a matched token (id >= 0) or a span of plain text (id == -1).
struct TextPiece {
  int32_t id;
  size_t begin;
  size_t end;
};

class AddedTokenMatcher {
 public:
  void add(const AddedToken& token);
  // Special tokens are matched only when parse_special; the others always.
  std::vector<TextPiece> split(std::string_view text, bool parse_special) const;
  const AddedToken* by_id(int32_t id) const;
  int32_t find(std::string_view content) const;  // -1 when absent
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::array<std::vector<size_t>, 256> by_first_byte_;  // longest first
};

}  // namespace optipfair
