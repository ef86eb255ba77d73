// A compiled PCRE2 pattern in UTF + Unicode-property mode (\p{L}, \p{N}, look-ahead), JIT-compiled
// when the platform allows. PCRE2 10.42's Unicode tables are version 14.0.0: code points assigned
// later (e.g. U+16D79 in 16.0) are unassigned for us, where Hugging Face's Oniguruma may differ.
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
