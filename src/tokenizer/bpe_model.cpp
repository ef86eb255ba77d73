#include "tokenizer/bpe_model.h"

#include <cstdio>
#include <queue>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace optipfair {

void BpeModel::set_vocab(std::span<const VocabEntry> vocab, size_t id_limit) {
  size_t table_size = 0;
  for (const auto& [piece, id] : vocab) {
    if (id < 0) throw Error("tokenizer vocabulary has a negative id for '" + std::string(piece) + "'");
    if (static_cast<size_t>(id) >= id_limit)
      throw Error("tokenizer vocabulary id " + std::to_string(id) + " of '" + std::string(piece) + "' is not below " +
                  std::to_string(id_limit) + ", the number of vocabulary entries and added tokens");
    table_size = std::max(table_size, static_cast<size_t>(id) + 1);
  }
  pieces_.build(vocab, table_size);
  merges_.reserve(vocab.size() * 2);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_ids_[b] = find(name);
  }
}

void BpeModel::add_merges(std::span<const MergePair> merges) {
  // Every lookup misses the cache (the tables are megabytes, the order random): hash and prefetch a
  // whole batch, then resolve it, so that the misses overlap instead of following one another.
  constexpr size_t kBatch = 32;
  std::string joined;
  std::array<uint64_t, 3 * kBatch> hashes;
  std::array<int32_t, 3 * kBatch> ids;
  std::array<size_t, kBatch + 1> joined_at;
  for (size_t start = 0; start < merges.size(); start += kBatch) {
    const size_t n = std::min(kBatch, merges.size() - start);
    const MergePair* batch = merges.data() + start;
    joined.clear();
    for (size_t i = 0; i < n; ++i) {
      joined_at[i] = joined.size();
      joined.append(batch[i].first).append(batch[i].second);
    }
    joined_at[n] = joined.size();
    auto merged = [&](size_t i) { return std::string_view(joined).substr(joined_at[i], joined_at[i + 1] - joined_at[i]); };
    for (size_t i = 0; i < n; ++i) {
      const std::string_view keys[3] = {batch[i].first, batch[i].second, merged(i)};
      for (size_t k = 0; k < 3; ++k) pieces_.prefetch(hashes[3 * i + k] = PieceTable::hash(keys[k]));
    }
    for (size_t i = 0; i < n; ++i) {
      ids[3 * i] = pieces_.find(batch[i].first, hashes[3 * i]);
      ids[3 * i + 1] = pieces_.find(batch[i].second, hashes[3 * i + 1]);
      ids[3 * i + 2] = pieces_.find(merged(i), hashes[3 * i + 2]);
      if (ids[3 * i] >= 0 && ids[3 * i + 1] >= 0) merges_.prefetch(ids[3 * i], ids[3 * i + 1]);
    }
    for (size_t i = 0; i < n; ++i) {
      const auto [left, right] = batch[i];
      const int32_t a = ids[3 * i], b = ids[3 * i + 1], id = ids[3 * i + 2];
      if (a < 0 || b < 0 || id < 0) {
        const std::string where = "tokenizer merge " + std::to_string(merges_.size()) + " ('" + std::string(left) +
                                  "' + '" + std::string(right) + "')";
        if (a < 0) throw Error(where + " names '" + std::string(left) + "', which is not in the vocabulary");
        if (b < 0) throw Error(where + " names '" + std::string(right) + "', which is not in the vocabulary");
        throw Error(where + " produces '" + std::string(merged(i)) + "', which is not in the vocabulary");
      }
      // A repeated pair keeps its first (best) rank, as the later entry could never fire.
      merges_.insert(a, b, MergeTable::Merge{static_cast<int32_t>(merges_.size()), id});
    }
  }
}

void BpeModel::queue_merge(std::string_view left, std::string_view right) {
  constexpr size_t kQueued = 256;
  if (queued_merges_.capacity() < kQueued) queued_merges_.reserve(kQueued);
  queued_merges_.emplace_back(left, right);
  if (queued_merges_.size() == kQueued) flush_merges();
}

void BpeModel::flush_merges() {
  add_merges(queued_merges_);
  queued_merges_.clear();
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (ignore_merges) {
    const int32_t id = find(word);
    if (id >= 0) {
      out->push_back(id);
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
  while (pos < word.size()) {
    size_t len = utf8_len(static_cast<unsigned char>(word[pos]));
    if (pos + len > word.size()) len = word.size() - pos;
    const std::string_view character = word.substr(pos, len);
    pos += len;
    if (const int32_t id = find(character); id >= 0) {
      push(id);
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
    if (const MergeTable::Merge* m = merges_.find(symbols[left].id, symbols[right].id))
      queue.push({m->rank, left, m->id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    // The pair may have changed since it was queued: only merge if it still yields this token.
    const MergeTable::Merge* m = merges_.find(left.id, symbols[left.next].id);
    if (!m || m->rank != top.rank || m->id != top.id) continue;
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
