// SentencePiece-style BPE driven by piece scores rather than a merge list: start from characters
// (unknown ones as <0xXX> byte pieces), then repeatedly merge the adjacent pair whose
// concatenation is the best-scoring piece, leftmost first. This is llama2.c's run.c encoder and
// llama.cpp's "llama" (SPM) vocabulary, both of which store only pieces and scores.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

struct ScoreBpeVocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int32_t> byte_ids = std::vector<int32_t>(256, -1);  // the <0xXX> piece of each byte
  int32_t unk_id = -1;
  std::vector<AddedToken> specials;  // matched in raw text, shown by their content
  std::string space = " ";           // how the vocabulary writes a space: " " (llama2.c) or "▁"
  bool add_space_prefix = true;      // SentencePiece's dummy prefix before each text segment
  bool add_bos = true, add_eos = false;
  int32_t bos_id = -1, eos_id = -1, pad_id = -1;
  std::string description;
};

class ScoreBpeTokenizer : public Tokenizer {
 public:
  explicit ScoreBpeTokenizer(ScoreBpeVocab vocab);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const override;
  std::string token_text(int32_t id) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(v_.pieces.size()); }

 private:
  void encode_segment(std::string_view text, std::vector<int32_t>* out) const;
  int32_t find(const std::string& piece) const;

  ScoreBpeVocab v_;
  std::unordered_map<std::string, int32_t> piece_ids_;
  std::unordered_map<int32_t, unsigned char> byte_of_id_;
  AddedTokenMatcher added_;
};

}  // namespace optipfair
