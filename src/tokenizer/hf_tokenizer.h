// A Hugging Face tokenizers pipeline: added tokens -> normalizer -> pre-tokenizer -> BPE model
// -> post-processor, and the decoder chain back. Built from tokenizer.json or, for GGUF "gpt2"
// vocabularies, assembled directly.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"

namespace optipfair {

struct NormalizerStep {
  enum class Kind { Prepend, Replace, ReplaceRegex, Strip, Nfc };
  Kind kind = Kind::Prepend;
  std::string text;     // Prepend: what to prepend; Replace: the pattern
  std::string content;  // Replace: the replacement
  std::shared_ptr<Regex> regex;
  bool strip_left = false, strip_right = false;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel, Metaspace };
  Kind kind = Kind::Split;
  // Split: a regex or a literal delimiter.
  std::shared_ptr<Regex> regex;
  std::string literal;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  // ByteLevel
  bool add_prefix_space = false;
  bool use_regex = false;
  // Metaspace
  std::string replacement = "\xE2\x96\x81";
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool split = true;
};

struct DecoderStep {
  enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
  Kind kind = Kind::ByteLevel;
  std::string pattern, content;  // Replace; Strip/Metaspace use content as the character
  int start = 0, stop = 0;       // Strip
  bool prepend_first = true;     // Metaspace: drop the leading space of the first token
};

struct HfPipeline {
  BpeModel model;
  AddedTokenMatcher added;
  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre_tokenizers;
  std::vector<DecoderStep> decoders;
  bool has_decoder = false;
  std::vector<int32_t> prefix_ids, suffix_ids;  // what add_special_tokens adds
  std::string description;
};

class HfTokenizer : public Tokenizer {
 public:
  // Applies tokenizer_config.json's switches and names on top of the pipeline's own choices.
  HfTokenizer(std::unique_ptr<HfPipeline> pipeline, const TokenizerConfig& config);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const override;
  std::string token_text(int32_t id) const override;
  int64_t vocab_size() const override { return vocab_size_; }

 private:
  void encode_segment(std::string_view text, bool at_start, std::vector<int32_t>* out) const;
  int32_t token_id(const std::string& content) const;

  std::unique_ptr<HfPipeline> p_;
  int64_t vocab_size_ = 0;
};

}  // namespace optipfair
