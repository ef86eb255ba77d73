#include "tokenizer/gguf_vocab_export.h"

#include <cstdio>
#include <functional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "io/gguf_writer.h"
#include "tokenizer/gguf_pre_tokenizers.h"
#include "tokenizer/sentencepiece_load.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_number.h"

namespace optipfair {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;

// Tokens by id, padded to the model's vocabulary: ids the tokenizer lacks become "[PAD<id>]" of
// type unused, as llama.cpp's converter writes them.
void pad_to(std::vector<std::string>& tokens, std::vector<int64_t>& types, std::vector<float>* scores, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (i < static_cast<int64_t>(tokens.size()) && !tokens[static_cast<size_t>(i)].empty()) continue;
    if (i >= static_cast<int64_t>(tokens.size())) {
      tokens.resize(static_cast<size_t>(i + 1));
      types.resize(static_cast<size_t>(i + 1), kNormal);
      if (scores) scores->resize(static_cast<size_t>(i + 1), 0.0f);
    }
    tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";
    types[static_cast<size_t>(i)] = kUnused;
  }
}

// The keys every vocabulary gets from the tokenizer as transformers loads it: special ids, whether
// encoding adds BOS / EOS (seen by encoding a letter), the chat template.
// llama.cpp's "llama" (score-driven SentencePiece) vocabulary keys, padded to vocab_size ids.
GgufMetadata llama_vocab_keys(std::vector<std::string> tokens, std::vector<int64_t> types, std::vector<float> scores,
                              int64_t vocab_size) {
  pad_to(tokens, types, &scores, vocab_size);
  GgufMetadata md;
  md.emplace_back("tokenizer.ggml.model", gguf_string("llama"));
  md.emplace_back("tokenizer.ggml.pre", gguf_string("default"));
  md.emplace_back("tokenizer.ggml.tokens", gguf_string_array(tokens));
  md.emplace_back("tokenizer.ggml.scores", gguf_float32_array(scores));
  md.emplace_back("tokenizer.ggml.token_type", gguf_int32_array(types));
  return md;
}

void add_common_keys(GgufMetadata& md, const Tokenizer& tok) {
  const std::vector<int32_t> ids = tok.encode("a");
  if (tok.bos_id() >= 0) md.emplace_back("tokenizer.ggml.bos_token_id", gguf_uint32(static_cast<uint32_t>(tok.bos_id())));
  if (tok.eos_id() >= 0) md.emplace_back("tokenizer.ggml.eos_token_id", gguf_uint32(static_cast<uint32_t>(tok.eos_id())));
  if (tok.pad_id() >= 0) md.emplace_back("tokenizer.ggml.padding_token_id", gguf_uint32(static_cast<uint32_t>(tok.pad_id())));
  md.emplace_back("tokenizer.ggml.add_bos_token", gguf_bool(!ids.empty() && tok.bos_id() >= 0 && ids.front() == tok.bos_id()));
  md.emplace_back("tokenizer.ggml.add_eos_token", gguf_bool(!ids.empty() && tok.eos_id() >= 0 && ids.back() == tok.eos_id()));
  if (!tok.chat_template().empty()) md.emplace_back("tokenizer.chat_template", gguf_string(tok.chat_template()));
}

// A token's id in tokenizer.json, below the number of entries (vocabulary plus added tokens), as
// its loader requires: an id from the file must not size the tables.
int64_t json_token_id(const json& id, size_t entries, const std::string& piece) {
  const std::optional<int64_t> i = json_exact_int64(id);
  if (!i || *i < 0 || static_cast<uint64_t>(*i) >= entries)
    throw Error("tokenizer.json gives the token '" + piece + "' the id " + id.dump() + ", not below its " +
                std::to_string(entries) + " entries");
  return *i;
}

// tokenizer.json's vocabulary and added tokens by id, with llama.cpp's token types.
void json_tokens(const json& tj, std::vector<std::string>& tokens, std::vector<int64_t>& types) {
  const json& vocab = tj.at("model").at("vocab");
  const bool has_added = tj.contains("added_tokens") && tj["added_tokens"].is_array();
  const size_t entries = vocab.size() + (has_added ? tj["added_tokens"].size() : 0);
  for (const auto& [piece, id] : vocab.items()) {
    const int64_t i = json_token_id(id, entries, piece);
    if (i >= static_cast<int64_t>(tokens.size())) {
      tokens.resize(static_cast<size_t>(i + 1));
      types.resize(static_cast<size_t>(i + 1), kNormal);
    }
    tokens[static_cast<size_t>(i)] = piece;
  }
  if (has_added)
    for (const json& a : tj["added_tokens"]) {
      const int64_t i = json_token_id(a.at("id"), entries, a.at("content").get<std::string>());
      if (i >= static_cast<int64_t>(tokens.size())) {
        tokens.resize(static_cast<size_t>(i + 1));
        types.resize(static_cast<size_t>(i + 1), kNormal);
      }
      tokens[static_cast<size_t>(i)] = a.at("content").get<std::string>();
      types[static_cast<size_t>(i)] = a.value("special", false) ? kControl : kUserDefined;
    }
}

// "a b" for each merge, whichever of the two forms tokenizer.json uses.
std::vector<std::string> json_merges(const json& model) {
  std::vector<std::string> out;
  if (!model.contains("merges")) return out;
  for (const json& m : model["merges"]) {
    if (m.is_string()) out.push_back(m.get<std::string>());
    else out.push_back(m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
  }
  return out;
}

// The regexes a byte-level tokenizer.json pre-tokenizer applies, in order, or an Error naming
// what cannot be expressed as one of llama.cpp's named pre-tokenizers.
std::vector<std::string> byte_level_regexes(const json& pre) {
  std::vector<std::string> out;
  std::vector<json> steps;
  if (pre.is_object() && pre.value("type", "") == "Sequence") steps = pre.at("pretokenizers").get<std::vector<json>>();
  else if (pre.is_object()) steps = {pre};
  for (const json& s : steps) {
    const std::string type = s.value("type", "");
    if (type == "Split" && s.contains("pattern") && s["pattern"].contains("Regex") && s.value("behavior", "") == "Isolated" &&
        !s.value("invert", false)) {
      out.push_back(s["pattern"]["Regex"].get<std::string>());
    } else if (type == "Digits" && s.value("individual_digits", false)) {
      out.push_back("\\p{N}");
    } else if (type == "ByteLevel") {
      if (s.value("use_regex", true)) out.push_back(find_gguf_pre_tokenizer("gpt-2")->regexes.front());
    } else {
      throw Error("its pre-tokenizer step '" + type + "' has no llama.cpp name");
    }
  }
  return out;
}

GgufMetadata from_gguf(const fs::path& file) {
  const GgufFile f = GgufFile::open(file);
  GgufMetadata md;
  for (const auto& [key, value] : f.metadata())
    if (key.rfind("tokenizer.", 0) == 0) md.emplace_back(key, value);
  if (md.empty()) throw Error(file.string() + " holds no vocabulary");
  return md;
}

GgufMetadata from_sentencepiece(const fs::path& dir, int64_t vocab_size) {
  sentencepiece::SentencePieceProcessor sp;
  sentencepiece_load(sp, dir / "tokenizer.model");
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  std::vector<float> scores;
  for (int i = 0; i < sp.GetPieceSize(); ++i) {
    tokens.push_back(sp.IdToPiece(i));
    scores.push_back(sp.GetScore(i));
    int type = kNormal;
    if (sp.IsUnknown(i)) type = kUnknown;
    if (sp.IsControl(i)) type = kControl;
    if (sp.IsUnused(i)) type = kUnused;
    if (sp.IsByte(i)) type = kByte;
    types.push_back(type);
  }
  // Tokens added on top of the SentencePiece model (added_tokens in tokenizer_config.json or
  // tokenizer.json) keep their ids; llama.cpp calls them user-defined unless special.
  if (fs::exists(dir / "tokenizer.json")) {
    std::vector<std::string> json_pieces;
    std::vector<int64_t> json_types;
    json_tokens(read_json_file(dir / "tokenizer.json"), json_pieces, json_types);
    for (size_t i = tokens.size(); i < json_pieces.size(); ++i) {
      tokens.push_back(json_pieces[i]);
      types.push_back(json_types[i] == kNormal ? kUserDefined : json_types[i]);
      scores.push_back(-1000.0f);
    }
  }
  GgufMetadata md = llama_vocab_keys(tokens, types, scores, vocab_size);
  // A model without add_dummy_prefix (Gemma's) encodes "a" without a leading "▁" piece.
  std::vector<std::string> pieces;
  if (sp.Encode("a", &pieces).ok() && !pieces.empty() && pieces.front().rfind("\xE2\x96\x81", 0) != 0)
    md.emplace_back("tokenizer.ggml.add_space_prefix", gguf_bool(false));
  if (sp.unk_id() >= 0) md.emplace_back("tokenizer.ggml.unknown_token_id", gguf_uint32(static_cast<uint32_t>(sp.unk_id())));
  return md;
}

// Whether a SentencePiece-style tokenizer.json puts "▁" before the text (Llama 2: a Prepend
// normalizer or a Metaspace pre-tokenizer that prepends; Gemma: neither). llama.cpp's "llama"
// vocabulary prepends unless tokenizer.ggml.add_space_prefix says otherwise.
bool json_adds_space_prefix(const json& tj) {
  bool found = false;
  std::function<void(const json&)> visit = [&](const json& step) {
    if (!step.is_object()) return;
    const std::string type = step.value("type", "");
    if (type == "Prepend") found = true;
    if (type == "Metaspace")
      found = found || step.value("prepend_scheme", step.value("add_prefix_space", true) ? "always" : "never") != "never";
    for (const char* list : {"normalizers", "pretokenizers"})
      if (step.contains(list) && step[list].is_array())
        for (const json& child : step[list]) visit(child);
  };
  visit(tj.value("normalizer", json()));
  visit(tj.value("pre_tokenizer", json()));
  return found;
}

GgufMetadata from_tokenizer_json(const json& tj, int64_t vocab_size) {
  const json& model = tj.at("model");
  if (model.value("type", "") != "BPE")
    throw Error("its tokenizer.json model is " + model.value("type", std::string("unknown")) +
                "; only BPE vocabularies are written to GGUF");
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  json_tokens(tj, tokens, types);
  const std::vector<std::string> merges = json_merges(model);
  GgufMetadata md;
  if (!model.value("byte_fallback", false)) {
    const std::vector<std::string> regexes = byte_level_regexes(tj.value("pre_tokenizer", json()));
    const GgufPreTokenizer* pre = nullptr;
    for (const GgufPreTokenizer& p : gguf_pre_tokenizers())
      if (p.regexes == regexes) pre = &p;
    if (!pre) throw Error("its pre-tokenizer's rules match none that llama.cpp names");
    pad_to(tokens, types, nullptr, vocab_size);
    md.emplace_back("tokenizer.ggml.model", gguf_string("gpt2"));
    md.emplace_back("tokenizer.ggml.pre", gguf_string(pre->name));
    md.emplace_back("tokenizer.ggml.tokens", gguf_string_array(tokens));
    md.emplace_back("tokenizer.ggml.token_type", gguf_int32_array(types));
    md.emplace_back("tokenizer.ggml.merges", gguf_string_array(merges));
    return md;
  }
  // SentencePiece-style BPE: score each piece by the first merge that makes it (earlier merges
  // score higher), so merging the highest-scoring pair first replays the merge order.
  std::unordered_map<std::string, float> score_of;
  for (size_t r = 0; r < merges.size(); ++r) {
    const size_t space = merges[r].find(' ', 1);
    if (space == std::string::npos) throw Error("its merge '" + merges[r] + "' is not two tokens");
    score_of.try_emplace(merges[r].substr(0, space) + merges[r].substr(space + 1), -static_cast<float>(r + 1));
  }
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (types[i] == kNormal && t.size() == 6 && t.rfind("<0x", 0) == 0 && t.back() == '>') types[i] = kByte;
    if (auto it = score_of.find(t); it != score_of.end() && types[i] == kNormal) scores[i] = it->second;
  }
  std::vector<uint32_t> unknown;
  if (model.contains("unk_token") && model["unk_token"].is_string())
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] == model["unk_token"].get<std::string>()) {
        types[i] = kUnknown;
        unknown.push_back(static_cast<uint32_t>(i));
      }
  md = llama_vocab_keys(tokens, types, scores, vocab_size);
  for (uint32_t id : unknown) md.emplace_back("tokenizer.ggml.unknown_token_id", gguf_uint32(id));
  if (!json_adds_space_prefix(tj)) md.emplace_back("tokenizer.ggml.add_space_prefix", gguf_bool(false));
  return md;
}

}  // namespace

GgufMetadata gguf_vocab_metadata(const fs::path& source, int64_t vocab_size) {
  std::error_code ec;
  if (fs::is_regular_file(source, ec) && source.extension() == ".gguf") return from_gguf(source);
  if (!fs::is_directory(source, ec))
    throw Error(source.string() + " is neither a GGUF file nor a folder with tokenizer.json or tokenizer.model");
  const bool has_json = fs::exists(source / "tokenizer.json"), has_spm = fs::exists(source / "tokenizer.model");
  if (!has_json && !has_spm) throw Error(source.string() + " holds no tokenizer.json or tokenizer.model");
  GgufMetadata md;
  if (has_json) {
    const json tj = read_json_file(source / "tokenizer.json");
    const bool sentencepiece_style = tj.at("model").value("byte_fallback", false);
    md = sentencepiece_style && has_spm ? from_sentencepiece(source, vocab_size)
                                        : from_tokenizer_json(tj, vocab_size);
  } else {
    md = from_sentencepiece(source, vocab_size);
  }
  const std::unique_ptr<Tokenizer> tok = load_tokenizer(source);
  add_common_keys(md, *tok);
  return md;
}

GgufMetadata gguf_byte_vocab_metadata(int64_t vocab_size, int64_t bos_id, int64_t eos_id) {
  if (vocab_size < 256) throw Error("a byte vocabulary needs at least 256 ids; the model has " + std::to_string(vocab_size));
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  char piece[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(piece, sizeof piece, "<0x%02X>", b);
    tokens.emplace_back(piece);
    types.push_back(kByte);
  }
  GgufMetadata md = llama_vocab_keys(tokens, types, std::vector<float>(tokens.size(), 0.0f), vocab_size);
  md.emplace_back("tokenizer.ggml.add_space_prefix", gguf_bool(false));
  if (bos_id >= 0 && bos_id < vocab_size) md.emplace_back("tokenizer.ggml.bos_token_id", gguf_uint32(static_cast<uint32_t>(bos_id)));
  if (eos_id >= 0 && eos_id < vocab_size) md.emplace_back("tokenizer.ggml.eos_token_id", gguf_uint32(static_cast<uint32_t>(eos_id)));
  md.emplace_back("tokenizer.ggml.add_bos_token", gguf_bool(false));
  return md;
}

}  // namespace optipfair
