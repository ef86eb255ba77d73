// The Unicode classes of tokenizer regexes (\p{L}, \s, \w, ...) as Hugging Face tokenizers defines
// them, independent of the Unicode tables of the PCRE2 library we link. Hugging Face tokenizers
// (0.23.2) matches with Oniguruma, whose tables are Unicode 16.0.0; Debian 12's PCRE2 10.42 has
// 14.0.0 and its own idea of \s (U+180E) and \w (no marks), so ~12,000 code points fall in a
// different class there. The tables come from tokenizers itself (tools/hf_tokenizers/, generated
// into unicode_tables.cpp by tools/make_unicode_tables).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace optipfair {

inline constexpr std::string_view kTokenizerUnicodeVersion = "16.0.0";

// Unicode general categories (two-letter values); Cs covers the surrogates, which UTF-8 text never holds.
enum class UnicodeCategory : uint8_t {
  Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
  Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn,
};

struct CodePointRange {
  uint32_t first = 0, last = 0;  // inclusive
  bool operator==(const CodePointRange&) const = default;
};
using CodePointRanges = std::vector<CodePointRange>;

// Category of a scalar value (code points above U+10FFFF are Cn).
UnicodeCategory unicode_category(uint32_t code_point);

// A regex class that Hugging Face tokenizers defines differently from PCRE2: general categories plus
// extra code points. Found by its name inside \p{...} ("L", "Lu", "Letter", "Uppercase_Letter",
// "LC"; case, spaces, '_' and '-' ignored as Oniguruma does) or, with `escape`, by the letter of
// \s \w \d \h. \h is Oniguruma's hexadecimal digit, not PCRE2's horizontal space.
struct UnicodeClass {
  std::string_view key;     // stable name: "L", "Lu", ..., "s", "w", "d", "h"
  uint32_t categories = 0;  // bit (1 << UnicodeCategory)
  std::span<const CodePointRange> extra;
};
std::optional<UnicodeClass> unicode_class_find(std::string_view name, bool escape);

// Members of a class, sorted and merged.
CodePointRanges unicode_class_ranges(const UnicodeClass& cls);
// [0, 0x10FFFF] minus `ranges` (sorted, merged).
CodePointRanges code_point_ranges_complement(const CodePointRanges& ranges);

// How to write a class with PCRE2's own escape plus corrections: valid only for the PCRE2 release the
// table was generated against (`pcre2_version`, e.g. "10.42 2022-12-11"). Using PCRE2's escape keeps
// matching fast; a class spelled out as ~700 ranges makes PCRE2 scan them for every non-ASCII char.
struct Pcre2ClassFix {
  CodePointRanges add, remove;
};
std::optional<Pcre2ClassFix> unicode_class_pcre2_fix(std::string_view key, std::string_view pcre2_version);

}  // namespace optipfair
