// Reading tokenizer.json into an HfPipeline. Anything the pipeline cannot reproduce exactly is
// refused with an Error naming it, rather than encoded differently from Hugging Face.
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/tokenizer_json_reader.h"
#include "util/error.h"
#include "util/json_number.h"

namespace optipfair {

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key, const std::string& fallback = {}) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool flag(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// A {"String": ...} or {"Regex": ...} pattern object.
void read_pattern(const json& pattern, const std::string& where, std::string* literal, std::shared_ptr<Regex>* regex) {
  if (pattern.contains("String") && pattern["String"].is_string()) {
    *literal = pattern["String"].get<std::string>();
  } else if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
    *regex = std::make_shared<Regex>(pattern["Regex"].get<std::string>());
  } else {
    throw Error(where + ": a pattern must be {\"String\": ...} or {\"Regex\": ...}");
  }
}

void read_normalizer(const json& n, const std::string& where, HfPipeline* p) {
  if (n.is_null()) return;
  const std::string type = str(n, "type");
  if (type == "Sequence") {
    for (const auto& child : n.value("normalizers", json::array())) read_normalizer(child, where, p);
  } else if (type == "Prepend") {
    p->normalizers.push_back({NormalizerStep::Kind::Prepend, str(n, "prepend"), {}, nullptr});
  } else if (type == "Replace") {
    NormalizerStep step;
    step.content = str(n, "content");
    read_pattern(n.value("pattern", json::object()), where, &step.text, &step.regex);
    step.kind = step.regex ? NormalizerStep::Kind::ReplaceRegex : NormalizerStep::Kind::Replace;
    p->normalizers.push_back(step);
  } else if (type == "Strip") {
    NormalizerStep step;
    step.kind = NormalizerStep::Kind::Strip;
    step.strip_left = flag(n, "strip_left", true);
    step.strip_right = flag(n, "strip_right", true);
    p->normalizers.push_back(step);
  } else if (type == "NFC") {
    NormalizerStep step;
    step.kind = NormalizerStep::Kind::Nfc;
    p->normalizers.push_back(step);
  } else {
    throw Error(where + " uses the normalizer '" + type + "', which optipfair does not support");
  }
}

SplitBehavior read_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  throw Error(where + " uses the split behavior '" + name + "', which is not one of tokenizers' five");
}

PreTokenizerStep regex_split(const std::string& pattern, SplitBehavior behavior, bool invert) {
  PreTokenizerStep step;
  step.regex = std::make_shared<Regex>(pattern);
  step.behavior = behavior;
  step.invert = invert;
  return step;
}

void read_pre_tokenizer(const json& t, const std::string& where, HfPipeline* p) {
  if (t.is_null()) return;
  const std::string type = str(t, "type");
  if (type == "Sequence") {
    for (const auto& child : t.value("pretokenizers", json::array())) read_pre_tokenizer(child, where, p);
  } else if (type == "Split") {
    PreTokenizerStep step;
    read_pattern(t.value("pattern", json::object()), where, &step.literal, &step.regex);
    step.behavior = read_behavior(str(t, "behavior", "Isolated"), where);
    step.invert = flag(t, "invert", false);
    p->pre_tokenizers.push_back(step);
  } else if (type == "ByteLevel") {
    PreTokenizerStep step;
    step.kind = PreTokenizerStep::Kind::ByteLevel;
    step.add_prefix_space = flag(t, "add_prefix_space", true);
    step.use_regex = flag(t, "use_regex", true);
    p->pre_tokenizers.push_back(step);
  } else if (type == "Metaspace") {
    PreTokenizerStep step;
    step.kind = PreTokenizerStep::Kind::Metaspace;
    step.replacement = str(t, "replacement", "\xE2\x96\x81");
    std::string scheme = str(t, "prepend_scheme", flag(t, "add_prefix_space", true) ? "always" : "never");
    step.prepend = scheme == "first" ? PreTokenizerStep::Prepend::First
                   : scheme == "never" ? PreTokenizerStep::Prepend::Never
                                       : PreTokenizerStep::Prepend::Always;
    step.split = flag(t, "split", true);
    p->pre_tokenizers.push_back(step);
  } else if (type == "Digits") {
    bool individual = flag(t, "individual_digits", false);
    p->pre_tokenizers.push_back(regex_split("\\p{N}", individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false));
  } else if (type == "WhitespaceSplit") {
    p->pre_tokenizers.push_back(regex_split("\\s+", SplitBehavior::Removed, false));
  } else if (type == "Whitespace") {
    p->pre_tokenizers.push_back(regex_split("\\w+|[^\\w\\s]+", SplitBehavior::Removed, true));
  } else {
    throw Error(where + " uses the pre-tokenizer '" + type + "', which optipfair does not support");
  }
}

void read_decoder(const json& d, const std::string& where, HfPipeline* p) {
  if (d.is_null()) return;
  p->has_decoder = true;
  const std::string type = str(d, "type");
  DecoderStep step;
  if (type == "Sequence") {
    for (const auto& child : d.value("decoders", json::array())) read_decoder(child, where, p);
    return;
  } else if (type == "ByteLevel") {
    step.kind = DecoderStep::Kind::ByteLevel;
  } else if (type == "Replace") {
    step.kind = DecoderStep::Kind::Replace;
    std::shared_ptr<Regex> regex;
    read_pattern(d.value("pattern", json::object()), where, &step.pattern, &regex);
    if (regex) throw Error(where + ": a Replace decoder with a regex pattern is not supported");
    step.content = str(d, "content");
  } else if (type == "ByteFallback") {
    step.kind = DecoderStep::Kind::ByteFallback;
  } else if (type == "Fuse") {
    step.kind = DecoderStep::Kind::Fuse;
  } else if (type == "Strip") {
    step.kind = DecoderStep::Kind::Strip;
    step.content = str(d, "content", " ");
    step.start = d.value("start", 0);
    step.stop = d.value("stop", 0);
  } else if (type == "Metaspace") {
    step.kind = DecoderStep::Kind::Metaspace;
    step.content = str(d, "replacement", "\xE2\x96\x81");
    std::string scheme = str(d, "prepend_scheme", flag(d, "add_prefix_space", true) ? "always" : "never");
    step.prepend_first = scheme != "never";
  } else {
    throw Error(where + " uses the decoder '" + type + "', which optipfair does not support");
  }
  p->decoders.push_back(step);
}

// An id the post-processor names by number; HfTokenizer checks it against the vocabulary.
int32_t post_processor_id(const json& v, const std::string& where) {
  const std::optional<int64_t> id = json_exact_int64(v);
  if (!id || *id < INT32_MIN || *id > INT32_MAX)
    throw Error(where + ": the post-processor's token id " + v.dump() + " is not a 32-bit integer");
  return static_cast<int32_t>(*id);
}

void read_post_processor(const json& pp, const std::string& where, HfPipeline* p) {
  if (pp.is_null()) return;
  const std::string type = str(pp, "type");
  auto id_of = [&](const std::string& name) {
    int32_t id = p->added.find(name);
    if (id < 0) id = p->model.find(name);
    if (id < 0) throw Error(where + ": the post-processor names the token '" + name + "', which is not in the vocabulary");
    return id;
  };
  if (type == "Sequence") {
    for (const auto& child : pp.value("processors", json::array())) read_post_processor(child, where, p);
  } else if (type == "ByteLevel") {
    // Only adjusts offsets; ids are unchanged.
  } else if (type == "TemplateProcessing") {
    const json specials = pp.value("special_tokens", json::object());
    p->prefix_ids.clear();
    p->suffix_ids.clear();
    bool after_sequence = false;
    for (const auto& item : pp.value("single", json::array())) {
      if (item.contains("Sequence")) {
        after_sequence = true;
        continue;
      }
      if (!item.contains("SpecialToken")) continue;
      const std::string name = str(item["SpecialToken"], "id");
      std::vector<int32_t> ids;
      if (specials.contains(name) && specials[name].contains("ids"))
        for (const auto& v : specials[name]["ids"]) ids.push_back(post_processor_id(v, where));
      else
        ids.push_back(id_of(name));
      auto& target = after_sequence ? p->suffix_ids : p->prefix_ids;
      target.insert(target.end(), ids.begin(), ids.end());
    }
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    const json cls = pp.value("cls", json::array()), sep = pp.value("sep", json::array());
    if (cls.size() == 2) p->prefix_ids = {post_processor_id(cls[1], where)};
    if (sep.size() == 2) p->suffix_ids = {post_processor_id(sep[1], where)};
  } else {
    throw Error(where + " uses the post-processor '" + type + "', which optipfair does not support");
  }
}

void read_model(const json& m, TokenizerJsonReader& reader, const TokenizerJsonDocument& doc, size_t id_limit,
                const std::string& where, HfPipeline* p) {
  const std::string type = str(m, "type", m.contains("merges") ? "BPE" : "");
  if (type != "BPE")
    throw Error(where + " has model type '" + type + "'; optipfair supports only BPE tokenizer.json models");
  if (!str(m, "continuing_subword_prefix").empty() || !str(m, "end_of_word_suffix").empty())
    throw Error(where + " uses continuing_subword_prefix / end_of_word_suffix, which optipfair does not support");
  if (!doc.has_vocab) throw Error(where + " has no model.vocab object");
  BpeModel& model = p->model;
  model.set_vocab(doc.vocab, id_limit);
  model.ignore_merges = flag(m, "ignore_merges", false);
  model.byte_fallback = flag(m, "byte_fallback", false);
  model.fuse_unk = flag(m, "fuse_unk", false);
  const std::string unk = str(m, "unk_token");
  if (!unk.empty()) {
    model.unk_id = model.find(unk);
    if (model.unk_id < 0) throw Error(where + ": the unk_token '" + unk + "' is not in the vocabulary");
  }
  reader.for_each_merge([&](std::string_view left, std::string_view right) { model.queue_merge(left, right); });
  model.flush_merges();
}

// `text` is followed by TokenizerJsonReader::kPadding readable bytes.
std::unique_ptr<HfPipeline> parse_tokenizer_json(std::string_view text, const std::string& where) {
  TokenizerJsonReader reader(text, where);
  TokenizerJsonDocument doc;
  try {
    doc = reader.read();
  } catch (const json::exception& e) {
    throw Error(where + " is not valid JSON: " + e.what());
  }
  const json& j = doc.tree;
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw Error(where + " has no \"model\" object; it is not a Hugging Face tokenizer.json");
  auto p = std::make_unique<HfPipeline>();
  try {
    // Ids index tables sized by the largest one: a file accounts for at most one id per entry.
    const size_t added = j.contains("added_tokens") && j["added_tokens"].is_array() ? j["added_tokens"].size() : 0;
    const size_t id_limit = doc.vocab.size() + added;
    read_model(j["model"], reader, doc, id_limit, where, p.get());
    for (const auto& t : j.value("added_tokens", json::array())) {
      AddedToken token;
      const json& id = t.at("id");
      token.content = t.at("content").get<std::string>();
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= static_cast<int64_t>(id_limit))
        throw Error(where + ": the added token '" + token.content + "' has id " + id.dump() + ", not below " +
                    std::to_string(id_limit) + ", the number of vocabulary entries and added tokens");
      token.id = static_cast<int32_t>(id.get<int64_t>());
      token.special = flag(t, "special", false);
      token.lstrip = flag(t, "lstrip", false);
      token.rstrip = flag(t, "rstrip", false);
      token.single_word = flag(t, "single_word", false);
      token.normalized = flag(t, "normalized", !token.special);
      p->added.add(token);
    }
    read_normalizer(j.value("normalizer", json()), where, p.get());
    read_pre_tokenizer(j.value("pre_tokenizer", json()), where, p.get());
    read_post_processor(j.value("post_processor", json()), where, p.get());
    read_decoder(j.value("decoder", json()), where, p.get());
  } catch (const json::exception& e) {
    throw Error(where + " has an unexpected structure: " + e.what());
  }
  bool byte_level = false;
  for (const auto& s : p->pre_tokenizers) byte_level = byte_level || s.kind == PreTokenizerStep::Kind::ByteLevel;
  p->description = "tokenizer.json (BPE, " + std::string(byte_level ? "byte-level" : "SentencePiece-style") + ", " +
                   std::to_string(p->model.vocab_size()) + " tokens, " + std::to_string(p->model.merge_count()) + " merges)";
  return p;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::filesystem::path& path) {
  // Mapped, not read: Llama-3's 17 MB file is then never copied.
  const auto file = MappedFile::open(path, TokenizerJsonReader::kPadding);
  const std::string_view text(reinterpret_cast<const char*>(file->data()), file->size());
  auto pipeline = parse_tokenizer_json(text, path.string());
  return std::make_unique<HfTokenizer>(std::move(pipeline), read_tokenizer_config(path.parent_path()));
}

}  // namespace optipfair
