#include "tokenizer/score_bpe_tokenizer.h"

#include <queue>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace optipfair {

ScoreBpeTokenizer::ScoreBpeTokenizer(ScoreBpeVocab vocab) : v_(std::move(vocab)) {
  piece_ids_.reserve(v_.pieces.size());
  // The first of duplicate pieces wins, as a sorted lookup over stable ids would find it.
  for (size_t i = 0; i < v_.pieces.size(); ++i) piece_ids_.try_emplace(v_.pieces[i], static_cast<int32_t>(i));
  for (int b = 0; b < 256; ++b)
    if (v_.byte_ids[b] >= 0) byte_of_id_[v_.byte_ids[b]] = static_cast<unsigned char>(b);
  for (const auto& t : v_.specials) {
    added_.add(t);
    if (t.special) special_ids_.insert(t.id);
  }
  bos_id_ = v_.bos_id;
  if (v_.eos_id >= 0) eos_ids_.push_back(v_.eos_id);
  pad_id_ = v_.pad_id;
  description_ = v_.description;
}

int32_t ScoreBpeTokenizer::find(const std::string& piece) const {
  auto it = piece_ids_.find(piece);
  return it == piece_ids_.end() ? -1 : it->second;
}

std::string ScoreBpeTokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_size()) + " tokens");
  return v_.pieces[static_cast<size_t>(id)];
}

std::vector<int32_t> ScoreBpeTokenizer::encode(std::string_view raw, const EncodeOptions& options) const {
  const std::string text = utf8_replace_invalid(raw);
  std::vector<int32_t> ids;
  if (options.add_special_tokens && v_.add_bos && v_.bos_id >= 0) ids.push_back(v_.bos_id);
  for (const TextPiece& piece : added_.split(text, options.parse_special)) {
    if (piece.id >= 0) ids.push_back(piece.id);
    else encode_segment(std::string_view(text).substr(piece.begin, piece.end - piece.begin), &ids);
  }
  if (options.add_special_tokens && v_.add_eos && v_.eos_id >= 0) ids.push_back(v_.eos_id);
  return ids;
}

void ScoreBpeTokenizer::encode_segment(std::string_view segment, std::vector<int32_t>* out) const {
  if (segment.empty()) return;
  std::string text;
  text.reserve(segment.size() + 8);
  if (v_.add_space_prefix) text += v_.space;
  for (char c : segment) {
    if (c == ' ') text += v_.space;
    else text += c;
  }

  struct Symbol {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  auto push = [&](int32_t id) {
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) symbols[index - 1].next = index;
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t len = std::min(utf8_len(static_cast<unsigned char>(text[pos])), text.size() - pos);
    int32_t id = find(text.substr(pos, len));
    if (id >= 0) {
      push(id);
    } else {
      for (size_t k = 0; k < len; ++k) {
        int32_t b = v_.byte_ids[static_cast<unsigned char>(text[pos + k])];
        if (b >= 0) push(b);
        else if (v_.unk_id >= 0) push(v_.unk_id);
      }
    }
    pos += len;
  }

  struct Candidate {
    float score;
    int32_t left, right;  // symbol positions; the pair is stale once either changed
    int32_t left_id, right_id, id;
    bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::priority_queue<Candidate> queue;
  auto consider = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    int32_t right = symbols[left].next;
    int32_t id = find(v_.pieces[symbols[left].id] + v_.pieces[symbols[right].id]);
    if (id >= 0) queue.push({v_.scores[id], left, right, symbols[left].id, symbols[right].id, id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    if (!left.alive || left.next != c.right || left.id != c.left_id || symbols[c.right].id != c.right_id) continue;
    Symbol& right = symbols[c.right];
    left.id = c.id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    consider(left.prev);
    consider(c.left);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) out->push_back(symbols[i].id);
}

std::string ScoreBpeTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string out;
  bool at_start = true;  // the dummy prefix space of the first text piece is dropped
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (const AddedToken* t = added_.by_id(id)) {
      if (skip_special_tokens && t->special) continue;
      out += t->content;
      at_start = false;
      continue;
    }
    if (auto it = byte_of_id_.find(id); it != byte_of_id_.end()) {
      out += static_cast<char>(it->second);
      at_start = false;
      continue;
    }
    std::string piece = v_.pieces[static_cast<size_t>(id)];
    if (v_.space != " ") {
      std::string replaced;
      for (size_t pos = 0; pos < piece.size();) {
        if (piece.compare(pos, v_.space.size(), v_.space) == 0) {
          replaced += ' ';
          pos += v_.space.size();
        } else {
          replaced += piece[pos++];
        }
      }
      piece = std::move(replaced);
    }
    if (at_start && v_.add_space_prefix && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    at_start = false;
    out += piece;
  }
  return utf8_replace_invalid(out);
}

}  // namespace optipfair
