// The data behind unicode_classes.h, generated into unicode_category_runs.cpp and unicode_tables.cpp
// by tools/make_unicode_tables from what Hugging Face tokenizers reports (tests/tokenizer/data/hf_unicode_classes.tsv).
#pragma once
#include <span>
#include <string_view>

#include "tokenizer/unicode_classes.h"

namespace optipfair::unicode_tables {

struct CategoryRun {
  uint32_t first;  // the run lasts until the next run's first
  UnicodeCategory category;
};

// A class's corrections against PCRE2's own escape for it (see Pcre2ClassFix).
struct Pcre2Fix {
  std::string_view key;
  std::span<const CodePointRange> add, remove;
};

extern const std::span<const CategoryRun> category_runs;
extern const std::span<const CodePointRange> word_extra;  // \w beyond L, M, Nd, Nl, Pc
extern const std::span<const CodePointRange> space;       // \s
extern const std::span<const CodePointRange> hex_digit;   // \h
extern const std::string_view pcre2_version;              // the release pcre2_fixes were made against
extern const std::span<const Pcre2Fix> pcre2_fixes;

}  // namespace optipfair::unicode_tables
