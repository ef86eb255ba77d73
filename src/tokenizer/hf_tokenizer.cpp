#include "tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace optipfair {

namespace {

// GPT-2's pre-tokenizer pattern, used by ByteLevel when use_regex is set.
const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const Regex& gpt2_regex() {
  static const Regex re(kGpt2Pattern);
  return re;
}

struct Piece {
  std::string text;
  bool at_start;  // begins at offset 0 of the whole input (Metaspace's "first" scheme)
};

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

bool is_space_byte(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Splits `piece` around the delimiter matches following tokenizers' SplitDelimiterBehavior.
void split_piece(const Piece& piece, const std::vector<std::pair<size_t, size_t>>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>* out) {
  struct Span {
    size_t begin, end;
    bool is_match;
  };
  std::vector<Span> spans;
  size_t pos = 0;
  for (auto [b, e] : matches) {
    if (b > pos) spans.push_back({pos, b, invert});
    spans.push_back({b, e, !invert});
    pos = e;
  }
  if (pos < piece.text.size()) spans.push_back({pos, piece.text.size(), invert});

  std::vector<std::pair<size_t, size_t>> result;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const auto& s : spans)
        if (!s.is_match) result.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::Isolated:
      for (const auto& s : spans) result.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const auto& s : spans) {
        if (s.is_match && !previous_match && !result.empty())
          result.back().second = s.end;
        else
          result.emplace_back(s.begin, s.end);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !result.empty())
          result.back().first = it->begin;
        else
          result.emplace_back(it->begin, it->end);
        previous_match = it->is_match;
      }
      std::reverse(result.begin(), result.end());
      break;
    case SplitBehavior::Contiguous:
      for (size_t i = 0; i < spans.size(); ++i) {
        if (i > 0 && spans[i].is_match == previous_match)
          result.back().second = spans[i].end;
        else
          result.emplace_back(spans[i].begin, spans[i].end);
        previous_match = spans[i].is_match;
      }
      break;
  }
  for (auto [b, e] : result)
    if (e > b) out->push_back({piece.text.substr(b, e - b), piece.at_start && b == 0});
}

std::vector<std::pair<size_t, size_t>> find_literal(std::string_view text, std::string_view literal) {
  std::vector<std::pair<size_t, size_t>> matches;
  if (literal.empty()) return matches;
  for (size_t pos = 0; (pos = text.find(literal, pos)) != std::string_view::npos; pos += literal.size())
    matches.emplace_back(pos, pos + literal.size());
  return matches;
}

// tokenizers' ByteFallback: a run of <0xXX> tokens becomes its bytes when they form valid
// UTF-8, otherwise one U+FFFD per byte token.
std::vector<std::string> byte_fallback(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string bytes;
  size_t byte_tokens = 0;
  auto flush = [&] {
    if (byte_tokens == 0) return;
    if (utf8_is_valid(bytes)) {
      out.push_back(bytes);
    } else {
      std::string repl;
      for (size_t i = 0; i < byte_tokens; ++i) repl += "\xEF\xBF\xBD";
      out.push_back(repl);
    }
    bytes.clear();
    byte_tokens = 0;
  };
  for (const auto& t : tokens) {
    unsigned value = 0;
    auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) && hex(t[4]) &&
        std::sscanf(t.c_str() + 3, "%2x", &value) == 1) {
      bytes += static_cast<char>(value);
      ++byte_tokens;
    } else {
      flush();
      out.push_back(t);
    }
  }
  flush();
  return out;
}

std::string byte_level_decode(const std::vector<std::string>& tokens) {
  std::string bytes;
  for (const auto& t : tokens) {
    std::string mapped;
    bool all = true;
    for (size_t pos = 0; pos < t.size() && all;) {
      int b = byte_level_byte(utf8_next(t, pos));
      if (b < 0) all = false;
      else mapped += static_cast<char>(b);
    }
    bytes += all ? mapped : t;
  }
  return utf8_replace_invalid(bytes);
}

// Removes up to `count` leading (or trailing) copies of the character `c`.
void strip_chars(std::string& s, const std::string& c, int start, int stop) {
  if (c.empty()) return;
  for (int i = 0; i < start && s.compare(0, c.size(), c) == 0; ++i) s.erase(0, c.size());
  for (int i = 0; i < stop && s.size() >= c.size() && s.compare(s.size() - c.size(), c.size(), c) == 0; ++i)
    s.erase(s.size() - c.size());
}

}  // namespace

HfTokenizer::HfTokenizer(std::unique_ptr<HfPipeline> pipeline, const TokenizerConfig& config) : p_(std::move(pipeline)) {
  description_ = p_->description;
  vocab_size_ = static_cast<int64_t>(p_->model.vocab_size());
  for (const auto& t : p_->added.tokens()) {
    vocab_size_ = std::max<int64_t>(vocab_size_, t.id + 1);
    if (t.special) special_ids_.insert(t.id);
  }
  // tokenizer.json's post-processor names its ids itself: encode would emit one past the vocabulary.
  for (const auto* ids : {&p_->prefix_ids, &p_->suffix_ids})
    for (int32_t id : *ids)
      if (id < 0 || id >= vocab_size_)
        throw Error("the tokenizer's post-processor adds the token id " + std::to_string(id) +
                    ", outside the vocabulary of " + std::to_string(vocab_size_) + " tokens");
  auto lookup = [&](const std::string& name) { return name.empty() ? -1 : token_id(name); };
  int32_t bos = lookup(config.bos_token);
  int32_t eos = lookup(config.eos_token);
  // transformers' Llama tokenizers rebuild the post-processor from these two switches.
  if (config.add_bos_token && bos >= 0) p_->prefix_ids = *config.add_bos_token ? std::vector<int32_t>{bos} : std::vector<int32_t>{};
  if (config.add_eos_token && eos >= 0) p_->suffix_ids = *config.add_eos_token ? std::vector<int32_t>{eos} : std::vector<int32_t>{};
  bos_id_ = bos >= 0 ? bos : (p_->prefix_ids.size() == 1 ? p_->prefix_ids[0] : -1);
  if (eos >= 0) eos_ids_.push_back(eos);
  else if (p_->suffix_ids.size() == 1) eos_ids_.push_back(p_->suffix_ids[0]);
  for (int32_t id : config.generation_eos_ids)
    if (std::find(eos_ids_.begin(), eos_ids_.end(), id) == eos_ids_.end()) eos_ids_.push_back(id);
  pad_id_ = lookup(config.pad_token);
  chat_template_ = config.chat_template;
}

int32_t HfTokenizer::token_id(const std::string& content) const {
  int32_t id = p_->added.find(content);
  return id >= 0 ? id : p_->model.find(content);
}

std::string HfTokenizer::token_text(int32_t id) const {
  if (const AddedToken* t = p_->added.by_id(id)) return t->content;
  if (id < 0 || static_cast<size_t>(id) >= p_->model.vocab_size())
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_size_) + " tokens");
  return std::string(p_->model.piece(id));
}

std::vector<int32_t> HfTokenizer::encode(std::string_view raw, const EncodeOptions& options) const {
  const std::string text = utf8_replace_invalid(raw);
  std::vector<int32_t> ids;
  if (options.add_special_tokens) ids = p_->prefix_ids;
  for (const TextPiece& piece : p_->added.split(text, options.parse_special)) {
    if (piece.id >= 0) ids.push_back(piece.id);
    else encode_segment(std::string_view(text).substr(piece.begin, piece.end - piece.begin), piece.begin == 0, &ids);
  }
  if (options.add_special_tokens) ids.insert(ids.end(), p_->suffix_ids.begin(), p_->suffix_ids.end());
  return ids;
}

void HfTokenizer::encode_segment(std::string_view segment, bool at_start, std::vector<int32_t>* out) const {
  std::string text(segment);
  for (const auto& n : p_->normalizers) {
    switch (n.kind) {
      case NormalizerStep::Kind::Prepend:
        if (!text.empty()) text = n.text + text;
        break;
      case NormalizerStep::Kind::Replace:
        replace_all(text, n.text, n.content);
        break;
      case NormalizerStep::Kind::ReplaceRegex: {
        std::string result;
        size_t pos = 0;
        for (auto [b, e] : n.regex->find_all(text)) {
          result.append(text, pos, b - pos);
          result += n.content;
          pos = e;
        }
        result.append(text, pos, std::string::npos);
        text = std::move(result);
        break;
      }
      case NormalizerStep::Kind::Strip: {
        size_t b = 0, e = text.size();
        if (n.strip_left) while (b < e && is_space_byte(static_cast<unsigned char>(text[b]))) ++b;
        if (n.strip_right) while (e > b && is_space_byte(static_cast<unsigned char>(text[e - 1]))) --e;
        text = text.substr(b, e - b);
        break;
      }
      case NormalizerStep::Kind::Nfc:
        break;  // see docs/tokenizers.md: input is taken as already composed
    }
  }
  std::vector<Piece> pieces{{std::move(text), at_start}};
  std::vector<Piece> next;
  for (const auto& step : p_->pre_tokenizers) {
    next.clear();
    for (auto& piece : pieces) {
      switch (step.kind) {
        case PreTokenizerStep::Kind::Split: {
          auto matches = step.regex ? step.regex->find_all(piece.text) : find_literal(piece.text, step.literal);
          split_piece(piece, matches, step.behavior, step.invert, &next);
          break;
        }
        case PreTokenizerStep::Kind::ByteLevel: {
          if (step.add_prefix_space && (piece.text.empty() || piece.text[0] != ' ')) piece.text = " " + piece.text;
          std::vector<Piece> parts;
          if (step.use_regex) split_piece(piece, gpt2_regex().find_all(piece.text), SplitBehavior::Isolated, false, &parts);
          else parts.push_back(std::move(piece));
          for (auto& part : parts) {
            Piece mapped{std::string(), part.at_start};
            mapped.text.reserve(part.text.size() * 2);
            byte_level_encode(part.text, &mapped.text);
            next.push_back(std::move(mapped));
          }
          break;
        }
        case PreTokenizerStep::Kind::Metaspace: {
          replace_all(piece.text, " ", step.replacement);
          bool starts = piece.text.compare(0, step.replacement.size(), step.replacement) == 0;
          bool prepend = step.prepend == PreTokenizerStep::Prepend::Always ||
                         (step.prepend == PreTokenizerStep::Prepend::First && piece.at_start);
          if (prepend && !starts) piece.text = step.replacement + piece.text;
          if (step.split) split_piece(piece, find_literal(piece.text, step.replacement), SplitBehavior::MergedWithNext, false, &next);
          else next.push_back(std::move(piece));
          break;
        }
      }
    }
    pieces.swap(next);
  }
  for (const auto& piece : pieces) p_->model.encode_word(piece.text, out);
}

std::string HfTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special(id)) continue;
    if (const AddedToken* t = p_->added.by_id(id)) tokens.push_back(t->content);
    else if (id >= 0 && static_cast<size_t>(id) < p_->model.vocab_size()) tokens.emplace_back(p_->model.piece(id));
  }
  if (!p_->has_decoder) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
    return joined;
  }
  for (const auto& d : p_->decoders) {
    switch (d.kind) {
      case DecoderStep::Kind::ByteLevel:
        tokens = {byte_level_decode(tokens)};
        break;
      case DecoderStep::Kind::Replace:
        for (auto& t : tokens) replace_all(t, d.pattern, d.content);
        break;
      case DecoderStep::Kind::ByteFallback:
        tokens = byte_fallback(tokens);
        break;
      case DecoderStep::Kind::Fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens = {all};
        break;
      }
      case DecoderStep::Kind::Strip:
        for (auto& t : tokens) strip_chars(t, d.content, d.start, d.stop);
        break;
      case DecoderStep::Kind::Metaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          replace_all(tokens[i], d.content, " ");
          if (i == 0 && d.prepend_first && !tokens[i].empty() && tokens[i][0] == ' ') tokens[i].erase(0, 1);
        }
        break;
    }
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

}  // namespace optipfair
