// Text <-> token ids for every vocabulary format our users' models ship with, behind one
// interface. Encoding follows Hugging Face tokenizers token for token (see docs/tokenizers.md).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace optipfair {

struct EncodeOptions {
  bool add_special_tokens = true;  // BOS/EOS per post-processor / tokenizer_config.json
  bool parse_special = true;       // special-token text in the input becomes special ids, as transformers does
};

class Tokenizer {
 public:
  virtual ~Tokenizer();

  // Invalid UTF-8 in `text` is replaced by U+FFFD (one per maximal invalid subsequence, as
  // Python's errors="replace" does) before encoding.
  virtual std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const = 0;
  // Ids outside the vocabulary are skipped, as Hugging Face tokenizers does.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const = 0;
  // The raw vocabulary piece ("Ġthe", "▁the", "<0x0A>"); throws Error for an id out of range.
  virtual std::string token_text(int32_t id) const = 0;
  virtual int64_t vocab_size() const = 0;

  int32_t bos_id() const { return bos_id_; }                  // -1 when none
  std::vector<int32_t> eos_ids() const { return eos_ids_; }   // empty when none
  int32_t eos_id() const { return eos_ids_.empty() ? -1 : eos_ids_.front(); }
  int32_t pad_id() const { return pad_id_; }                  // -1 when none
  bool is_special(int32_t id) const { return special_ids_.count(id) != 0; }
  bool is_eos(int32_t id) const;
  std::string chat_template() const { return chat_template_; }  // empty when none
  // What was loaded, for messages: "tokenizer.json (BPE, byte-level)", "tok512.bin (llama2.c)".
  std::string description() const { return description_; }

 protected:
  int32_t bos_id_ = -1;
  std::vector<int32_t> eos_ids_;
  int32_t pad_id_ = -1;
  std::unordered_set<int32_t> special_ids_;
  std::string chat_template_;
  std::string description_;
};

// Chooses from what the model path holds: a folder with tokenizer.json (preferred) or
// tokenizer.model; a .gguf file (tokenizer.ggml.*); a llama2.c .bin checkpoint (tokenizer.bin /
// tok512.bin beside it); or a tokenizer file given directly (tokenizer.json, *.model,
// tokenizer.bin / tok*.bin). Throws Error saying where it looked when nothing is found.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_path);

// Hugging Face tokenizer.json; tokenizer_config.json (and generation_config.json,
// chat_template.jinja) beside it are read when present.
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::filesystem::path& tokenizer_json);
// SentencePiece tokenizer.model through the SentencePiece library; tokenizer_config.json beside
// it is read when present.
std::unique_ptr<Tokenizer> load_tokenizer_sentencepiece(const std::filesystem::path& tokenizer_model);
// llama2.c tokenizer.bin / tok512.bin; encodes exactly as llama2.c's run.c does.
std::unique_ptr<Tokenizer> load_tokenizer_llama2c(const std::filesystem::path& tokenizer_bin);
// The vocabulary stored in a GGUF file (tokenizer.ggml.model "gpt2" or "llama").
std::unique_ptr<Tokenizer> load_tokenizer_gguf(const std::filesystem::path& gguf_path);

// A token or text shown with visible escapes (\n, \t, \xNN for other control bytes), for display.
std::string escape_visible(std::string_view text);

}  // namespace optipfair
