#include "tokenizer/tokenizer_json_reader.h"

#include "util/error.h"

namespace optipfair {

namespace {

using nlohmann::json;

class Handler {
 public:
  Handler(TokenizerJsonDocument* doc, const std::string& where) : doc_(doc), dom_(doc->tree), where_(where) {}

  bool null() { return mode_ == Mode::Tree ? dom_.null() : bad("null"); }
  bool boolean(bool v) { return mode_ == Mode::Tree ? dom_.boolean(v) : bad("a boolean"); }
  bool number_integer(json::number_integer_t v) { return mode_ == Mode::Tree ? dom_.number_integer(v) : vocab_id(v); }
  bool number_unsigned(json::number_unsigned_t v) {
    return mode_ == Mode::Tree ? dom_.number_unsigned(v) : vocab_id(static_cast<int64_t>(v));
  }
  bool number_float(json::number_float_t v, const std::string& s) { return mode_ == Mode::Tree ? dom_.number_float(v, s) : bad("a float"); }
  bool binary(json::binary_t& v) { return mode_ == Mode::Tree ? dom_.binary(v) : bad("binary data"); }

  bool string(std::string& s) {
    if (mode_ == Mode::Tree) return dom_.string(s);
    if (mode_ != Mode::Merges) return bad("a string");
    if (merge_depth_ == 1) {
      pair_.push_back(std::move(s));
      return true;
    }
    // The older form: one "left right" string.
    size_t space = s.find(' ', 1);
    if (space == std::string::npos) throw Error(where_ + ": the merge '" + s + "' is not two tokens separated by a space");
    doc_->merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    return true;
  }

  bool start_object(std::size_t n) {
    if (mode_ != Mode::Tree) return bad("an object");
    if (at_model_key("vocab")) {
      mode_ = Mode::Vocab;
      doc_->has_vocab = true;
      return true;
    }
    frames_.push_back({true, {}});
    return dom_.start_object(n);
  }
  bool key(std::string& k) {
    if (mode_ == Mode::Vocab) {
      pending_key_ = std::move(k);
      return true;
    }
    if (mode_ != Mode::Tree) return bad("a key");
    frames_.back().key = k;
    return dom_.key(k);
  }
  bool end_object() {
    if (mode_ == Mode::Vocab) {
      mode_ = Mode::Tree;
      return dom_.null();
    }
    frames_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (mode_ == Mode::Merges) {
      if (merge_depth_ != 0) return bad("a nested array");
      merge_depth_ = 1;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::Tree) return bad("an array");
    if (at_model_key("merges")) {
      mode_ = Mode::Merges;
      merge_depth_ = 0;
      doc_->merges.reserve(300000);
      return true;
    }
    frames_.push_back({false, {}});
    return dom_.start_array(n);
  }
  bool end_array() {
    if (mode_ == Mode::Merges) {
      if (merge_depth_ == 1) {
        if (pair_.size() != 2) throw Error(where_ + ": a merge must be a pair of strings or one \"left right\" string");
        doc_->merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
        merge_depth_ = 0;
        return true;
      }
      mode_ = Mode::Tree;
      return dom_.null();
    }
    frames_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token, const json::exception& e) {
    throw Error(where_ + " is not valid JSON: " + e.what());
  }

 private:
  enum class Mode { Tree, Vocab, Merges };
  struct Frame {
    bool is_object;
    std::string key;
  };

  // True when the value about to start is root["model"][name].
  bool at_model_key(const char* name) const {
    return frames_.size() == 2 && frames_[0].is_object && frames_[0].key == "model" && frames_[1].is_object &&
           frames_[1].key == name;
  }
  bool vocab_id(int64_t v) {
    if (mode_ != Mode::Vocab) return bad("a number");
    if (v < 0 || v > INT32_MAX) throw Error(where_ + ": the vocabulary id of '" + pending_key_ + "' is out of range");
    doc_->vocab.emplace(std::move(pending_key_), static_cast<int32_t>(v));
    return true;
  }
  bool bad(const char* what) {
    throw Error(where_ + ": model." + (mode_ == Mode::Vocab ? "vocab" : "merges") + " holds " + what + " where it should not");
  }

  TokenizerJsonDocument* doc_;
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::string where_;
  Mode mode_ = Mode::Tree;
  std::vector<Frame> frames_;
  std::string pending_key_;
  int merge_depth_ = 0;
  std::vector<std::string> pair_;
};

}  // namespace

TokenizerJsonDocument read_tokenizer_json(const std::string& text, const std::string& where) {
  TokenizerJsonDocument doc;
  doc.vocab.reserve(1 << 17);
  Handler handler(&doc, where);
  json::sax_parse(text, &handler);
  return doc;
}

}  // namespace optipfair
