// The BPE model's flat lookup tables beside std::unordered_map as their oracle, on random keys
// with repeats, misses and growth; and the batched merge loader's errors naming the right merge.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

#include "test_support.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/bpe_tables.h"

namespace optipfair {
namespace {

std::string random_piece(std::mt19937& rng) {
  std::uniform_int_distribution<int> length(0, 6), byte(0, 3);
  std::string s(static_cast<size_t>(length(rng)), 'a');
  for (char& c : s) c = static_cast<char>('a' + byte(rng));  // a small alphabet: many repeats
  return s;
}

TEST(PieceTable, AgreesWithAMapOnRandomPiecesRepeatsAndHoles) {
  std::mt19937 rng(7);
  std::vector<std::string> storage;
  for (int i = 0; i < 3000; ++i) storage.push_back(random_piece(rng));
  // Ids with holes: every third id is never listed.
  std::vector<VocabEntry> entries;
  std::unordered_map<std::string, int32_t> oracle;  // later listing wins, as in the table
  std::vector<std::string> by_id(4500);
  for (size_t i = 0; i < storage.size(); ++i) {
    const int32_t id = static_cast<int32_t>(i + i / 2);
    entries.emplace_back(storage[i], id);
    oracle[storage[i]] = id;
    by_id[static_cast<size_t>(id)] = storage[i];
  }
  PieceTable table;
  table.build(entries, by_id.size());
  ASSERT_EQ(table.id_count(), by_id.size());
  for (size_t id = 0; id < by_id.size(); ++id) EXPECT_EQ(table.piece(static_cast<int32_t>(id)), by_id[id]) << id;
  for (const auto& [piece, id] : oracle) EXPECT_EQ(table.find(piece), id) << piece;
  for (int i = 0; i < 2000; ++i) {
    const std::string probe = random_piece(rng) + (i % 2 ? "z" : "");
    auto it = oracle.find(probe);
    EXPECT_EQ(table.find(probe), it == oracle.end() ? -1 : it->second) << probe;
  }
}

TEST(PieceTable, EmptyTableFindsNothing) {
  PieceTable table;
  EXPECT_EQ(table.find("a"), -1);
  table.build({}, 0);
  EXPECT_EQ(table.find(""), -1);
}

TEST(MergeTable, AgreesWithAMapWhileGrowingFromEmpty) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> id(0, 300);
  MergeTable table;  // no reserve: it grows through several rehashes
  EXPECT_EQ(table.find(1, 2), nullptr);
  std::unordered_map<uint64_t, MergeTable::Merge> oracle;
  for (int32_t rank = 0; rank < 20000; ++rank) {
    const int32_t a = id(rng), b = id(rng);
    const uint64_t key = static_cast<uint64_t>(a) << 32 | static_cast<uint32_t>(b);
    const bool fresh = oracle.try_emplace(key, MergeTable::Merge{rank, a + b}).second;
    EXPECT_EQ(table.insert(a, b, {rank, a + b}), fresh);
  }
  EXPECT_EQ(table.size(), oracle.size());
  for (int32_t a = 0; a <= 301; ++a)
    for (int32_t b = 0; b <= 301; b += 7) {
      const auto it = oracle.find(static_cast<uint64_t>(a) << 32 | static_cast<uint32_t>(b));
      const MergeTable::Merge* m = table.find(a, b);
      ASSERT_EQ(m != nullptr, it != oracle.end()) << a << " " << b;
      if (m) {
        EXPECT_EQ(m->rank, it->second.rank) << a << " " << b;
        EXPECT_EQ(m->id, it->second.id) << a << " " << b;
      }
    }
}

// Merges are resolved 32 at a time; an error still names the merge by its place in the list.
TEST(BpeModel, BatchedMergesNameTheFailingMerge) {
  std::vector<std::string> pieces = {"a", "b"};
  std::string word = "a";
  for (int i = 0; i < 40; ++i) pieces.push_back(word += "b");  // ab, abb, ...
  std::vector<VocabEntry> vocab;
  for (size_t i = 0; i < pieces.size(); ++i) vocab.emplace_back(pieces[i], static_cast<int32_t>(i));
  std::vector<BpeModel::MergePair> merges;
  for (int i = 0; i < 40; ++i) merges.emplace_back(pieces[static_cast<size_t>(i == 0 ? 0 : i + 1)], "b");
  {
    BpeModel model;
    model.set_vocab(vocab, vocab.size());
    model.add_merges(merges);
    EXPECT_EQ(model.merge_count(), 40u);
    std::vector<int32_t> ids;
    model.encode_word("abbbb", &ids);
    EXPECT_EQ(ids, std::vector<int32_t>({5}));
  }
  merges[37].second = "c";
  BpeModel model;
  model.set_vocab(vocab, vocab.size());
  EXPECT_EQ(test::error_of([&] { model.add_merges(merges); }),
            "tokenizer merge 37 ('" + pieces[38] + "' + 'c') names 'c', which is not in the vocabulary");
}

}  // namespace
}  // namespace optipfair
