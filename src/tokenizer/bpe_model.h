// Hugging Face's BPE model: a vocabulary, ranked merges, and the merge loop over one pre-token
// ("word"). Merges run over a linked list of symbols with a priority queue (lowest rank first,
// leftmost on ties), as tokenizers' Word::merge_all does; results are cached per word.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace optipfair {

// Lets lookups take a string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using VocabMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // Vocabulary first; ids may have holes (they are then empty pieces). Every id must be below
  // id_limit (what the file can account for: its entries and added tokens), which bounds the id ->
  // piece table by the file's own size; Error otherwise.
  void set_vocab(VocabMap vocab, size_t id_limit);
  // Adds the next merge (rank = number added so far). Throws Error naming the missing token when
  // `left`, `right` or their concatenation is not in the vocabulary.
  void add_merge(std::string_view left, std::string_view right);

  bool ignore_merges = false;
  bool byte_fallback = false;  // unknown characters become their <0xXX> byte tokens
  bool fuse_unk = false;
  int32_t unk_id = -1;         // -1: unknown characters are dropped, as tokenizers does

  // Appends the ids of one word to *out.
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  int32_t find(std::string_view piece) const;  // -1 when absent
  const std::vector<std::string>& pieces() const { return id_to_piece_; }
  size_t merge_count() const { return merges_.size(); }

 private:
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void merge_word(std::string_view word, std::vector<int32_t>* out) const;

  VocabMap vocab_;
  std::string merged_buffer_;
  std::vector<std::string> id_to_piece_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int32_t, 256> byte_ids_{};

  // Words repeat a lot in running text; the cache makes the merge loop run once per distinct word.
  static constexpr size_t kCacheCapacity = 100000;
  static constexpr size_t kCacheMaxWordBytes = 256;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace optipfair
