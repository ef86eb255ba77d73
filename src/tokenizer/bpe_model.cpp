#include "tokenizer/bpe_model.h"

#include <cstdio>
#include <queue>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace optipfair {

void BpeModel::set_vocab(VocabMap vocab, size_t id_limit) {
  vocab_ = std::move(vocab);
  size_t table_size = 0;
  for (const auto& [piece, id] : vocab_) {
    if (id < 0) throw Error("tokenizer vocabulary has a negative id for '" + piece + "'");
    if (static_cast<size_t>(id) >= id_limit)
      throw Error("tokenizer vocabulary id " + std::to_string(id) + " of '" + piece + "' is not below " +
                  std::to_string(id_limit) + ", the number of vocabulary entries and added tokens");
    table_size = std::max(table_size, static_cast<size_t>(id) + 1);
  }
  id_to_piece_.assign(table_size, std::string());
  for (const auto& [piece, id] : vocab_) id_to_piece_[static_cast<size_t>(id)] = piece;
  merges_.reserve(vocab_.size() * 2);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_ids_[b] = find(name);
  }
}

int32_t BpeModel::find(std::string_view piece) const {
  auto it = vocab_.find(piece);
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::add_merge(std::string_view left, std::string_view right) {
  int32_t a = find(left), b = find(right);
  merged_buffer_.assign(left);
  merged_buffer_.append(right);
  int32_t id = find(merged_buffer_);
  if (a < 0 || b < 0 || id < 0) {
    const std::string where = "tokenizer merge " + std::to_string(merges_.size()) + " ('" + std::string(left) +
                              "' + '" + std::string(right) + "')";
    if (a < 0) throw Error(where + " names '" + std::string(left) + "', which is not in the vocabulary");
    if (b < 0) throw Error(where + " names '" + std::string(right) + "', which is not in the vocabulary");
    throw Error(where + " produces '" + merged_buffer_ + "', which is not in the vocabulary");
  }
  // A repeated pair keeps its first (best) rank, as the later entry could never fire.
  merges_.try_emplace(pair_key(a, b), Merge{static_cast<int32_t>(merges_.size()), id});
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (ignore_merges) {
    auto it = vocab_.find(word);
    if (it != vocab_.end()) {
      out->push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() <= kCacheMaxWordBytes;
  std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t start = out->size();
  merge_word(word, out);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(std::move(key), std::vector<int32_t>(out->begin() + start, out->end()));
  }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>* out) const {
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto push = [&](int32_t id) {
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) symbols[index - 1].next = index;
  };
  bool last_was_unk = false;
  size_t pos = 0;
  std::string character;
  while (pos < word.size()) {
    size_t len = utf8_len(static_cast<unsigned char>(word[pos]));
    if (pos + len > word.size()) len = word.size() - pos;
    character.assign(word.substr(pos, len));
    pos += len;
    auto it = vocab_.find(character);
    if (it != vocab_.end()) {
      push(it->second);
      last_was_unk = false;
      continue;
    }
    if (byte_fallback) {
      bool all = true;
      for (unsigned char b : character) all = all && byte_ids_[b] >= 0;
      if (all) {
        for (unsigned char b : character) push(byte_ids_[b]);
        last_was_unk = false;
        continue;
      }
    }
    if (unk_id < 0) continue;
    if (!(fuse_unk && last_was_unk)) push(unk_id);
    last_was_unk = true;
  }

  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    int32_t right = symbols[left].next;
    if (right < 0) return;
    auto it = merges_.find(pair_key(symbols[left].id, symbols[right].id));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    // The pair may have changed since it was queued: only merge if it still yields this token.
    auto it = merges_.find(pair_key(left.id, symbols[left.next].id));
    if (it == merges_.end() || it->second.rank != top.rank || it->second.id != top.id) continue;
    Symbol& right = symbols[left.next];
    left.id = top.id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) out->push_back(symbols[i].id);
}

}  // namespace optipfair
