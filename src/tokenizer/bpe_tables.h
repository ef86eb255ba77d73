// The two lookups a BPE model makes for every character and every adjacent pair: piece -> id and
// (left id, right id) -> merge. Flat open-addressing tables over one text buffer: built without an
// allocation per entry (Llama-3 has 128k pieces and 280k merges, read by every command) and probed
// with one or two cache lines instead of a chain of nodes.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/large_alloc.h"

namespace optipfair {

using VocabEntry = std::pair<std::string_view, int32_t>;
using VocabList = std::vector<VocabEntry, LargeAllocator<VocabEntry>>;

class PieceTable {
 public:
  // Every id below id_count gets the piece listed for it (ids not listed are empty pieces). A piece
  // listed under two ids is found under the later one, as in Hugging Face tokenizers and llama.cpp
  // (both fill a map in file order). Ids must be in [0, id_count); Error when the pieces' total
  // length does not fit the 32-bit offsets.
  void build(std::span<const VocabEntry> entries, size_t id_count);

  int32_t find(std::string_view piece) const { return find(piece, hash(piece)); }  // -1 when absent
  // The same in two steps, so that a batch of lookups overlaps its cache misses: hash and prefetch
  // every key first, then find each.
  static uint64_t hash(std::string_view piece) { return std::hash<std::string_view>{}(piece); }
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }
  int32_t find(std::string_view piece, uint64_t hash) const;
  std::string_view piece(int32_t id) const { return text_of(spans_[static_cast<size_t>(id)]); }
  size_t id_count() const { return spans_.size(); }

 private:
  struct Span {
    uint32_t offset;
    uint32_t length;
  };
  // The piece's place in text_ is in the slot too: a lookup touches the slot and the text only.
  struct Slot {
    uint32_t tag;  // the hash's high half: most mismatches are rejected without touching the text
    int32_t id;    // -1: empty
    Span span;
  };
  std::string_view text_of(Span s) const { return std::string_view(text_.data() + s.offset, s.length); }

  std::string text_;
  std::vector<Span> spans_;
  std::vector<Slot, LargeAllocator<Slot>> slots_;
  size_t mask_ = 0;
};

// (left id, right id) -> (rank, merged id); the first insertion of a pair wins.
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  // False (and no change) when the pair is already present.
  bool insert(int32_t left, int32_t right, Merge merge);
  const Merge* find(int32_t left, int32_t right) const;
  void prefetch(int32_t left, int32_t right) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(key_of(left, right))]);
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t key;  // kEmpty: free
    Merge merge;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are non-negative: no real pair has it
  static uint64_t key_of(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  void rehash(size_t capacity);

  std::vector<Slot, LargeAllocator<Slot>> slots_;
  size_t size_ = 0;
  unsigned shift_ = 64;
};

}  // namespace optipfair
