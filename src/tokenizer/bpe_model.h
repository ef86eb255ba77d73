// Hugging Face's BPE model: a vocabulary, ranked merges, and the merge loop over one pre-token
// ("word"). Merges run over a linked list of symbols with a priority queue (lowest rank first,
// leftmost on ties), as tokenizers' Word::merge_all does; results are cached per word.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_tables.h"

namespace optipfair {

class BpeModel {
 public:
  // Vocabulary first, as (piece, id) in file order; ids may have holes (they are then empty
  // pieces), and a piece listed twice is found under its later id. Every id must be below id_limit
  // (what the file can account for: its entries and added tokens), which bounds the id -> piece
  // table by the file's own size; Error otherwise.
  void set_vocab(std::span<const VocabEntry> vocab, size_t id_limit);
  // Adds the next merges in order (rank = distinct pairs added so far; a repeated pair keeps its
  // first rank). Throws Error naming the missing token when a `left`, `right` or their
  // concatenation is not in the vocabulary. A batch's lookups overlap their cache misses: pass
  // merges a few hundred at a time rather than one by one.
  using MergePair = std::pair<std::string_view, std::string_view>;
  void add_merges(std::span<const MergePair> merges);
  // The same for merges that arrive one by one (a file being read): they are queued and added a
  // batch at a time. The views must stay valid until flush_merges, which follows the last one.
  void queue_merge(std::string_view left, std::string_view right);
  void flush_merges();

  bool ignore_merges = false;
  bool byte_fallback = false;  // unknown characters become their <0xXX> byte tokens
  bool fuse_unk = false;
  int32_t unk_id = -1;         // -1: unknown characters are dropped, as tokenizers does

  // Appends the ids of one word to *out.
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  int32_t find(std::string_view piece) const { return pieces_.find(piece); }  // -1 when absent
  size_t vocab_size() const { return pieces_.id_count(); }  // one past the largest id
  std::string_view piece(int32_t id) const { return pieces_.piece(id); }  // id below vocab_size()
  size_t merge_count() const { return merges_.size(); }  // distinct pairs

 private:
  void merge_word(std::string_view word, std::vector<int32_t>* out) const;

  PieceTable pieces_;
  MergeTable merges_;
  std::vector<MergePair> queued_merges_;
  std::array<int32_t, 256> byte_ids_{};

  // Words repeat a lot in running text; the cache makes the merge loop run once per distinct word.
  static constexpr size_t kCacheCapacity = 100000;
  static constexpr size_t kCacheMaxWordBytes = 256;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace optipfair
