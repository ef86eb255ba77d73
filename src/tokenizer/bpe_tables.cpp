#include "tokenizer/bpe_tables.h"

#include <bit>

#include "util/error.h"

namespace optipfair {

namespace {

// At most three quarters full, so that a miss (every character that is not a piece, every pair
// that is not a merge) ends after a short probe; not emptier, as every slot is a page to fault in
// (Llama-3's 280k merges take 8 MB).
size_t capacity_for(size_t n) { return std::bit_ceil(std::max<size_t>(16, n + n / 3 + 1)); }

}  // namespace

void PieceTable::build(std::span<const VocabEntry> entries, size_t id_count) {
  size_t total = 0;
  for (const auto& [piece, id] : entries) total += piece.size();
  if (total > UINT32_MAX) throw Error("tokenizer vocabulary holds more than 4 GiB of token text");
  text_.clear();
  text_.reserve(total);
  spans_.assign(id_count, Span{0, 0});
  slots_.assign(capacity_for(entries.size()), Slot{0, -1, Span{0, 0}});
  mask_ = slots_.size() - 1;
  for (const auto& [piece, id] : entries) {
    const Span span{static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(piece.size())};
    spans_[static_cast<size_t>(id)] = span;
    text_.append(piece);
    const uint64_t h = hash(piece);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{tag, id, span};
        break;
      }
      if (s.tag == tag && text_of(s.span) == piece) {
        s.id = id;  // listed again: the later id is the one found
        break;
      }
    }
  }
}

int32_t PieceTable::find(std::string_view piece, uint64_t h) const {
  if (slots_.empty()) return -1;
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.id < 0) return -1;
    if (s.tag == tag && text_of(s.span) == piece) return s.id;
  }
}

void MergeTable::reserve(size_t n) {
  if (capacity_for(n) > slots_.size()) rehash(capacity_for(n));
}

void MergeTable::rehash(size_t capacity) {
  std::vector<Slot, LargeAllocator<Slot>> old = std::move(slots_);
  slots_.assign(capacity, Slot{kEmpty, {0, 0}});
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  const size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = home(s.key);
    while (slots_[i].key != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

bool MergeTable::insert(int32_t left, int32_t right, Merge merge) {
  if (capacity_for(size_ + 1) > slots_.size()) rehash(capacity_for(size_ + 1));
  const uint64_t key = key_of(left, right);
  const size_t mask = slots_.size() - 1;
  size_t i = home(key);
  for (; slots_[i].key != kEmpty; i = (i + 1) & mask)
    if (slots_[i].key == key) return false;
  slots_[i] = Slot{key, merge};
  ++size_;
  return true;
}

const MergeTable::Merge* MergeTable::find(int32_t left, int32_t right) const {
  if (slots_.empty()) return nullptr;
  const uint64_t key = key_of(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = home(key); slots_[i].key != kEmpty; i = (i + 1) & mask)
    if (slots_[i].key == key) return &slots_[i].merge;
  return nullptr;
}

}  // namespace optipfair
