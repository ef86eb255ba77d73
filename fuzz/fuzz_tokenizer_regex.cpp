// Tokenizer regexes (the Split patterns of tokenizer.json, GGUF pre-tokenizers): the input is a
// pattern, a NUL, then a text. Besides crashes, this is a differential check of the translator
// (src/tokenizer/regex_translate.h): PCRE2's escapes plus corrections and the fully spelled-out
// classes are two independent ways to write the same classes, so on any text they must split alike.
#include <algorithm>
#include <string>
#include <string_view>

#include "support.h"
#include "tokenizer/regex.h"
#include "tokenizer/regex_translate.h"
#include "tokenizer/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos || nul > 512) return 0;
  const std::string pattern(input.substr(0, nul));
  // Short texts keep PCRE2's match limits (which end find_all early) out of the comparison.
  const std::string text = utf8_replace_invalid(input.substr(nul + 1, 96));
  OPTIPFAIR_FUZZ_BODY({
    const Regex fast(pattern);
    const auto got = fast.find_all(text);
    for (auto [begin, end] : got)
      if (begin >= end || end > text.size()) fuzz::fail("a match outside the text");
    // "0.0" is no PCRE2 release: every class spelled out as ranges, independent of PCRE2's tables.
    const Regex spelled(regex_translate_for_pcre2(pattern, "0.0"));
    if (spelled.find_all(text) != got) fuzz::fail("PCRE2's escapes and the spelled-out classes split differently");
  })
}
