#include "tokenizer/added_tokens.h"

#include <algorithm>
#include <cctype>

namespace optipfair {

namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
// Any non-ASCII byte counts as part of a word: letters outside ASCII are the common case.
bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

}  // namespace

void AddedTokenMatcher::add(const AddedToken& token) {
  if (by_id_.count(token.id)) return;
  by_id_[token.id] = tokens_.size();
  tokens_.push_back(token);
  if (token.content.empty()) return;
  auto& bucket = by_first_byte_[static_cast<unsigned char>(token.content[0])];
  bucket.push_back(tokens_.size() - 1);
  std::stable_sort(bucket.begin(), bucket.end(),
                   [&](size_t a, size_t b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
}

const AddedToken* AddedTokenMatcher::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

int32_t AddedTokenMatcher::find(std::string_view content) const {
  for (const auto& t : tokens_)
    if (t.content == content) return t.id;
  return -1;
}

std::vector<TextPiece> AddedTokenMatcher::split(std::string_view text, bool parse_special) const {
  std::vector<TextPiece> pieces;
  size_t text_start = 0;  // start of the pending plain-text span
  size_t i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (size_t index : by_first_byte_[static_cast<unsigned char>(text[i])]) {
      const AddedToken& t = tokens_[index];
      if (t.special && !parse_special) continue;
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      if (t.single_word) {
        size_t after = i + t.content.size();
        bool left_ok = i == 0 || !is_word_byte(static_cast<unsigned char>(text[i - 1]));
        bool right_ok = after >= text.size() || !is_word_byte(static_cast<unsigned char>(text[after]));
        if (!left_ok || !right_ok) continue;
      }
      hit = &t;
      break;
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t begin = i, end = i + hit->content.size();
    if (hit->lstrip)
      while (begin > text_start && is_space(static_cast<unsigned char>(text[begin - 1]))) --begin;
    if (hit->rstrip)
      while (end < text.size() && is_space(static_cast<unsigned char>(text[end]))) ++end;
    if (begin > text_start) pieces.push_back({-1, text_start, begin});
    pieces.push_back({hit->id, begin, end});
    text_start = i = end;
  }
  if (text_start < text.size()) pieces.push_back({-1, text_start, text.size()});
  return pieces;
}

}  // namespace optipfair
