#include "tokenizer/tokenizer_json_reader.h"

#include <cstdint>
#include <cstring>

#include <simdjson.h>

#include "util/error.h"

namespace optipfair {

namespace od = simdjson::ondemand;

struct TokenizerJsonReader::Impl {
  std::string_view text;
  std::string where;
  od::parser parser;
  od::document doc;
  bool has_merges = false;

  template <class T, class Result>
  T take(Result&& result) {
    T value;
    if (const simdjson::error_code e = std::forward<Result>(result).get(value))
      throw Error(where + " is not valid JSON: " + simdjson::error_message(e));
    return value;
  }

  void start() {
    doc = take<od::document>(parser.iterate(text.data(), text.size(), text.size() + kPadding));
  }

  // A key as it stands in the file when it holds no escape (almost every token does), else
  // unescaped into the parser's buffer.
  std::string_view key_of(od::field& field) {
    const char* begin = field.key().raw();
    const char* end = text.data() + text.size();
    const void* quote = std::memchr(begin, '"', static_cast<size_t>(end - begin));
    if (quote && !std::memchr(begin, '\\', static_cast<size_t>(static_cast<const char*>(quote) - begin)))
      return std::string_view(begin, static_cast<size_t>(static_cast<const char*>(quote) - begin));
    return take<std::string_view>(field.unescaped_key());
  }

  // The same for a string value; false when the value is not a string.
  bool string_of(od::value& v, std::string_view* out) {
    const std::string_view token = v.raw_json_token();  // "...", then any whitespace
    if (token.empty() || token[0] != '"') return false;
    const size_t close = token.rfind('"');
    if (close > 0 && token.find('\\') == std::string_view::npos) {
      *out = token.substr(1, close - 1);
      return true;
    }
    return v.get_string().get(*out) == simdjson::SUCCESS;
  }

  // A section optipfair reads as a tree: its JSON text, parsed (and so validated) by nlohmann.
  nlohmann::json tree_of(od::value& v) {
    std::string_view raw;
    switch (take<od::json_type>(v.type())) {
      case od::json_type::object: raw = take<std::string_view>(take<od::object>(v.get_object()).raw_json()); break;
      case od::json_type::array: raw = take<std::string_view>(take<od::array>(v.get_array()).raw_json()); break;
      default: raw = v.raw_json_token(); break;
    }
    return nlohmann::json::parse(raw.begin(), raw.end());
  }

  void read(TokenizerJsonDocument* out) {
    start();
    if (take<od::json_type>(doc.type()) != od::json_type::object) {
      out->tree = nlohmann::json::parse(text.begin(), text.end());  // valid JSON or not, it has no model object
      return;
    }
    out->tree = nlohmann::json::object();
    bool seen_model = false;
    for (auto result : take<od::object>(doc.get_object())) {
      od::field field = take<od::field>(std::move(result));
      const std::string key(key_of(field));
      if (key == "model") {
        if (seen_model) throw Error(where + " gives \"model\" twice");
        seen_model = true;
        read_model(field.value(), out);
      } else {
        out->tree[key] = tree_of(field.value());
      }
    }
    if (doc.current_location().error() == simdjson::SUCCESS)
      throw Error(where + " is not valid JSON: there is more after the top-level object");
  }

  void read_model(od::value& v, TokenizerJsonDocument* out) {
    if (take<od::json_type>(v.type()) != od::json_type::object) {
      out->tree["model"] = tree_of(v);
      return;
    }
    nlohmann::json model = nlohmann::json::object();
    for (auto result : take<od::object>(v.get_object())) {
      od::field field = take<od::field>(std::move(result));
      const std::string key(key_of(field));
      od::value& value = field.value();
      const od::json_type type = take<od::json_type>(value.type());
      if (key == "vocab" && type == od::json_type::object) {
        if (out->has_vocab) throw Error(where + " gives model.vocab twice");
        out->has_vocab = true;
        read_vocab(take<od::object>(value.get_object()), &out->vocab);
        model[key] = nullptr;
      } else if (key == "merges" && type == od::json_type::array) {
        if (has_merges) throw Error(where + " gives model.merges twice");
        has_merges = true;
        model[key] = nullptr;  // the array is skipped here and read by for_each_merge
      } else {
        model[key] = tree_of(value);
      }
    }
    out->tree["model"] = std::move(model);
  }

  void read_vocab(od::object vocab, VocabList* out) {
    for (auto result : vocab) {
      od::field field = take<od::field>(std::move(result));
      const std::string_view piece = key_of(field);
      int64_t id = 0;
      if (field.value().get_int64().get(id) != simdjson::SUCCESS || id < 0 || id > INT32_MAX)
        throw Error(where + ": the vocabulary id of '" + std::string(piece) + "' is not an integer in [0, 2^31)");
      out->emplace_back(piece, static_cast<int32_t>(id));
    }
  }

  od::array find_merges() {
    for (auto result : take<od::object>(doc.get_object())) {
      od::field field = take<od::field>(std::move(result));
      if (key_of(field) != "model") continue;
      for (auto model_result : take<od::object>(field.value().get_object())) {
        od::field model_field = take<od::field>(std::move(model_result));
        od::value& value = model_field.value();
        if (key_of(model_field) == "merges" && take<od::json_type>(value.type()) == od::json_type::array)
          return take<od::array>(value.get_array());
      }
    }
    throw Error(where + " changed between its two readings");  // read() found the array
  }

  void for_each_merge(const std::function<void(std::string_view, std::string_view)>& add) {
    if (!has_merges) return;
    start();
    const std::string pair_error = where + ": a merge must be a pair of strings or one \"left right\" string";
    for (auto result : find_merges()) {
      od::value item = take<od::value>(std::move(result));
      std::string_view s;
      if (string_of(item, &s)) {
        // The older form: one "left right" string.
        const size_t space = s.find(' ', 1);
        if (space == std::string_view::npos)
          throw Error(where + ": the merge '" + std::string(s) + "' is not two tokens separated by a space");
        add(s.substr(0, space), s.substr(space + 1));
        continue;
      }
      od::array pair;
      if (item.get_array().get(pair) != simdjson::SUCCESS) throw Error(pair_error);
      std::string_view sides[2];
      size_t n = 0;
      for (auto side : pair) {
        od::value v = take<od::value>(std::move(side));
        if (n == 2 || !string_of(v, &sides[n])) throw Error(pair_error);
        ++n;
      }
      if (n != 2) throw Error(pair_error);
      add(sides[0], sides[1]);
    }
  }
};

TokenizerJsonReader::TokenizerJsonReader(std::string_view text, std::string where) : impl_(std::make_unique<Impl>()) {
  impl_->text = text;
  impl_->where = std::move(where);
}

TokenizerJsonReader::~TokenizerJsonReader() = default;

TokenizerJsonDocument TokenizerJsonReader::read() {
  TokenizerJsonDocument out;
  impl_->read(&out);
  return out;
}

void TokenizerJsonReader::for_each_merge(const std::function<void(std::string_view, std::string_view)>& add) {
  impl_->for_each_merge(add);
}

}  // namespace optipfair
