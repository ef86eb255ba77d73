// A tokenizer pattern compiled by PCRE2 in UTF + Unicode-property mode, JIT-compiled when the
// platform allows. Its classes (\p{L}, \s, \w, ...) are first rewritten to mean what they mean in
// Hugging Face tokenizers (Unicode 16.0.0, Oniguruma's \s and \w; regex_translate.h), whatever
// Unicode version the linked PCRE2 has.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace optipfair {

class Regex {
 public:
  // Throws Error quoting the pattern and PCRE2's message when it does not compile.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Byte ranges [begin, end) of the successive non-empty matches in `text` (valid UTF-8).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*, kept opaque so users need not include pcre2.h
  bool jit_ = false;
};

}  // namespace optipfair
