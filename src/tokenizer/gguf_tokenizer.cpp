// Vocabularies stored in GGUF files (tokenizer.ggml.*): "gpt2" byte-level BPE with merges and a
// pre-tokenizer named by tokenizer.ggml.pre, and "llama" SentencePiece vocabularies with scores.
// Token types follow llama.cpp: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
#include <cstdio>

#include "io/gguf_file.h"
#include "tokenizer/gguf_pre_tokenizers.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/score_bpe_tokenizer.h"
#include "util/error.h"

namespace optipfair {

namespace {

constexpr int kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;

int64_t int_or(const GgufFile& f, const std::string& key, int64_t fallback) { return f.has(key) ? f.get_int(key) : fallback; }
bool bool_or(const GgufFile& f, const std::string& key, bool fallback) { return f.has(key) ? f.get_bool(key) : fallback; }

// A special token's id, or -1 when the file names none. A BOS, EOS or unknown id outside the
// vocabulary would be emitted by encode as a token no embedding row exists for, so it is refused; a
// padding id there is only ignored (encode never emits it), as llama.cpp ignores such ids.
int32_t special_id(const GgufFile& f, const std::filesystem::path& path, const std::string& key, size_t n_tokens) {
  const int64_t id = int_or(f, key, -1);
  const bool inside = id >= 0 && static_cast<uint64_t>(id) < n_tokens;
  if (id == -1 || (!inside && key == "tokenizer.ggml.padding_token_id")) return -1;
  if (!inside)
    throw Error(path.string() + ": " + key + " is " + std::to_string(id) + ", outside the vocabulary of " +
                std::to_string(n_tokens) + " tokens");
  return static_cast<int32_t>(id);
}

std::unique_ptr<Tokenizer> load_gpt2(const GgufFile& f, const std::filesystem::path& path,
                                     std::span<const std::string_view> tokens, const std::vector<int64_t>& types) {
  auto p = std::make_unique<HfPipeline>();
  VocabList vocab;
  vocab.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) vocab.emplace_back(tokens[i], static_cast<int32_t>(i));
  p->model.set_vocab(vocab, tokens.size());
  const std::string pre = f.has("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  const GgufPreTokenizer* rules = find_gguf_pre_tokenizer(pre);
  if (!rules) {
    std::string known;
    for (const GgufPreTokenizer& t : gguf_pre_tokenizers()) known += (known.empty() ? "" : ", ") + t.name;
    throw Error(path.string() + " names the pre-tokenizer '" + pre + "', which optipfair does not know (known: " +
                known + ")");
  }
  // llama.cpp gives Llama-3's vocabulary tokenizers' ignore_merges behaviour.
  p->model.ignore_merges = rules->name == "llama-bpe";
  for (const std::string_view merge : f.get_string_views("tokenizer.ggml.merges")) {  // views of the mapped file
    const size_t space = merge.find(' ', 1);
    if (space == std::string_view::npos)
      throw Error(path.string() + ": the merge '" + std::string(merge) + "' is not two tokens separated by a space");
    p->model.queue_merge(merge.substr(0, space), merge.substr(space + 1));
  }
  p->model.flush_merges();
  for (size_t i = 0; i < types.size() && i < tokens.size(); ++i) {
    if (types[i] != kControl && types[i] != kUserDefined && types[i] != kUnknown) continue;
    AddedToken t;
    t.id = static_cast<int32_t>(i);
    t.content = std::string(tokens[i]);
    t.special = types[i] != kUserDefined;
    p->added.add(t);
  }
  for (const auto& regex : rules->regexes) {
    PreTokenizerStep step;
    step.regex = std::make_shared<Regex>(regex);
    p->pre_tokenizers.push_back(step);
  }
  PreTokenizerStep byte_level;
  byte_level.kind = PreTokenizerStep::Kind::ByteLevel;
  p->pre_tokenizers.push_back(byte_level);
  p->decoders.push_back(DecoderStep{});  // ByteLevel
  p->has_decoder = true;
  const int32_t bos = special_id(f, path, "tokenizer.ggml.bos_token_id", tokens.size());
  const int32_t eos = special_id(f, path, "tokenizer.ggml.eos_token_id", tokens.size());
  if (bool_or(f, "tokenizer.ggml.add_bos_token", false) && bos >= 0) p->prefix_ids = {bos};
  if (bool_or(f, "tokenizer.ggml.add_eos_token", false) && eos >= 0) p->suffix_ids = {eos};
  p->description = path.filename().string() + " (GGUF gpt2 vocabulary, pre-tokenizer " + pre + ", " +
                   std::to_string(tokens.size()) + " tokens)";
  TokenizerConfig config;
  auto name = [&](int32_t id) { return id >= 0 ? std::string(tokens[static_cast<size_t>(id)]) : std::string(); };
  config.bos_token = name(bos);
  config.eos_token = name(eos);
  config.pad_token = name(special_id(f, path, "tokenizer.ggml.padding_token_id", tokens.size()));
  if (f.has("tokenizer.chat_template")) config.chat_template = f.get_string("tokenizer.chat_template");
  return std::make_unique<HfTokenizer>(std::move(p), config);
}

std::unique_ptr<Tokenizer> load_llama(const GgufFile& f, const std::filesystem::path& path, std::vector<std::string> tokens,
                                      const std::vector<int64_t>& types) {
  ScoreBpeVocab v;
  const auto scores = f.get_float_array("tokenizer.ggml.scores");
  if (scores.size() != tokens.size())
    throw Error(path.string() + " has " + std::to_string(scores.size()) + " scores for " + std::to_string(tokens.size()) + " tokens");
  v.scores.assign(scores.begin(), scores.end());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int64_t type = i < types.size() ? types[i] : 1;
    unsigned value = 0;
    if (type == kByte && std::sscanf(tokens[i].c_str(), "<0x%2X>", &value) == 1 && value < 256) v.byte_ids[value] = static_cast<int32_t>(i);
    if (type == kControl || type == kUnknown || type == kUserDefined) {
      AddedToken t;
      t.id = static_cast<int32_t>(i);
      t.content = tokens[i];
      t.special = type != kUserDefined;
      v.specials.push_back(t);
    }
  }
  v.unk_id = special_id(f, path, "tokenizer.ggml.unknown_token_id", tokens.size());
  v.bos_id = special_id(f, path, "tokenizer.ggml.bos_token_id", tokens.size());
  v.eos_id = special_id(f, path, "tokenizer.ggml.eos_token_id", tokens.size());
  v.pad_id = special_id(f, path, "tokenizer.ggml.padding_token_id", tokens.size());
  v.pieces = std::move(tokens);
  v.space = "\xE2\x96\x81";
  v.add_bos = bool_or(f, "tokenizer.ggml.add_bos_token", true);
  v.add_eos = bool_or(f, "tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = bool_or(f, "tokenizer.ggml.add_space_prefix", true);
  v.description = path.filename().string() + " (GGUF llama/SentencePiece vocabulary, " + std::to_string(v.pieces.size()) + " tokens)";
  return std::make_unique<ScoreBpeTokenizer>(std::move(v));
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_gguf(const std::filesystem::path& path) {
  const GgufFile f = GgufFile::open(path);
  if (!f.has("tokenizer.ggml.model") || !f.has("tokenizer.ggml.tokens"))
    throw Error(path.string() + " holds no vocabulary (no tokenizer.ggml.model / tokenizer.ggml.tokens)");
  const std::string model = f.get_string("tokenizer.ggml.model");
  const std::span<const std::string_view> tokens = f.get_string_views("tokenizer.ggml.tokens");
  std::vector<int64_t> types;
  if (f.has("tokenizer.ggml.token_type")) types = f.get_int_array("tokenizer.ggml.token_type");
  if (model == "gpt2") return load_gpt2(f, path, tokens, types);
  if (model == "llama") return load_llama(f, path, std::vector<std::string>(tokens.begin(), tokens.end()), types);
  throw Error(path.string() + " has the tokenizer model '" + model + "'; optipfair supports 'gpt2' and 'llama'");
}

}  // namespace optipfair
