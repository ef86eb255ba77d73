// SentencePiece tokenizer.model files, encoded by the SentencePiece library itself so that its
// normalisation rules and model types are honoured exactly. Control and unknown pieces ("<s>",
// "</s>", "<unk>") are matched in the text first, as transformers' LlamaTokenizer does.
#include <sentencepiece_processor.h>

#include "tokenizer/added_tokens.h"
#include "tokenizer/sentencepiece_load.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace optipfair {

namespace {

class SentencePieceTokenizer : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::filesystem::path& path) {
    sentencepiece_load(sp_, path);
    const int n = sp_.GetPieceSize();
    for (int id = 0; id < n; ++id) {
      if (sp_.IsControl(id) || sp_.IsUnknown(id)) {
        AddedToken t;
        t.id = id;
        t.content = sp_.IdToPiece(id);
        added_.add(t);
        special_ids_.insert(id);
      }
    }
    const TokenizerConfig config = read_tokenizer_config(path.parent_path());
    auto named = [&](const std::string& name, int fallback) {
      if (name.empty()) return fallback;
      int id = sp_.PieceToId(name);
      return id == sp_.unk_id() && name != sp_.IdToPiece(sp_.unk_id()) ? fallback : id;
    };
    bos_id_ = named(config.bos_token, sp_.bos_id());
    int eos = named(config.eos_token, sp_.eos_id());
    if (eos >= 0) eos_ids_.push_back(eos);
    for (int32_t id : config.generation_eos_ids)
      if (!is_eos(id)) eos_ids_.push_back(id);
    pad_id_ = named(config.pad_token, sp_.pad_id());
    add_bos_ = config.add_bos_token.value_or(true) && bos_id_ >= 0;
    add_eos_ = config.add_eos_token.value_or(false) && eos >= 0;
    chat_template_ = config.chat_template;
    description_ = path.filename().string() + " (SentencePiece, " + std::to_string(n) + " pieces)";
  }

  std::vector<int32_t> encode(std::string_view raw, const EncodeOptions& options) const override {
    const std::string text = utf8_replace_invalid(raw);
    std::vector<int32_t> ids;
    if (options.add_special_tokens && add_bos_) ids.push_back(bos_id_);
    std::vector<int> part;
    for (const TextPiece& piece : added_.split(text, options.parse_special)) {
      if (piece.id >= 0) {
        ids.push_back(piece.id);
        continue;
      }
      part.clear();
      const auto status = sp_.Encode(std::string_view(text).substr(piece.begin, piece.end - piece.begin), &part);
      if (!status.ok()) throw Error("SentencePiece could not encode the text: " + status.ToString());
      ids.insert(ids.end(), part.begin(), part.end());
    }
    if (options.add_special_tokens && add_eos_) ids.push_back(eos_ids_.front());
    return ids;
  }

  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override {
    std::string out;
    std::vector<int> run;
    auto flush = [&] {
      if (run.empty()) return;
      std::string text;
      (void)sp_.Decode(run, &text);
      out += text;
      run.clear();
    };
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) continue;
      if (is_special(id)) {
        flush();
        if (!skip_special_tokens) out += sp_.IdToPiece(id);
        continue;
      }
      run.push_back(id);
    }
    flush();
    return out;
  }

  std::string token_text(int32_t id) const override {
    if (id < 0 || id >= vocab_size())
      throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_size()) + " tokens");
    return sp_.IdToPiece(id);
  }

  int64_t vocab_size() const override { return sp_.GetPieceSize(); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  AddedTokenMatcher added_;
  bool add_bos_ = true, add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_sentencepiece(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw Error("cannot find the SentencePiece model " + path.string());
  return std::make_unique<SentencePieceTokenizer>(path);
}

}  // namespace optipfair
