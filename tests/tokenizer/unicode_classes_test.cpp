// The regex classes against what Hugging Face tokenizers reported for every scalar value
// (tests/tokenizer/data/hf_unicode_classes.tsv, written by tools/hf_tokenizers/unicode_classes.js):
// the tables, then PCRE2 matching the translated patterns, both the fast form (PCRE2's escape plus
// corrections) and the spelled-out ranges that any other PCRE2 release gets.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tokenizer/regex.h"
#include "tokenizer/regex_translate.h"
#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"
#include "util/build_paths.h"
#include "util/error.h"

namespace optipfair {
namespace {

struct HfClass {
  std::string escape;  // "\p{Lu}", "\s", ...
  CodePointRanges ranges;
};

const std::vector<HfClass>& hf_classes() {
  static const std::vector<HfClass> classes = [] {
    std::vector<HfClass> out;
    std::ifstream in(std::string(OPTIPFAIR_TEST_DATA_DIR) + "/tokenizer/data/hf_unicode_classes.tsv");
    for (std::string line; std::getline(in, line);) {
      const auto tab = line.find('\t');
      if (tab == std::string::npos) continue;
      HfClass c{line.substr(0, tab), {}};
      std::istringstream ranges(line.substr(tab + 1));
      for (std::string r; ranges >> r;) {
        const auto dash = r.find('-');
        c.ranges.push_back({static_cast<uint32_t>(std::stoul(r.substr(0, dash), nullptr, 16)),
                            static_cast<uint32_t>(std::stoul(r.substr(dash + 1), nullptr, 16))});
      }
      out.push_back(std::move(c));
    }
    return out;
  }();
  return classes;
}

// The file never lists surrogates (UTF-8 cannot carry them to the probe); neither may we.
CodePointRanges without_surrogates(const CodePointRanges& in) {
  CodePointRanges out;
  for (const auto& r : in) {
    if (r.last < 0xD800 || r.first > 0xDFFF) {
      out.push_back(r);
      continue;
    }
    if (r.first < 0xD800) out.push_back({r.first, 0xD7FF});
    if (r.last > 0xDFFF) out.push_back({0xE000, r.last});
  }
  return out;
}

std::optional<UnicodeClass> class_of_escape(const std::string& escape) {
  if (escape.rfind("\\p{", 0) == 0) return unicode_class_find(escape.substr(3, escape.size() - 4), false);
  return unicode_class_find(escape.substr(1), true);
}

// Every scalar value, in order, as UTF-8; and the code point at each byte offset's start.
struct AllScalars {
  std::string text;
  std::vector<uint32_t> code_point_at;  // by byte offset (only starts are read)
};
const AllScalars& all_scalars() {
  static const AllScalars all = [] {
    AllScalars a;
    for (uint32_t c = 0; c <= 0x10FFFF; ++c) {
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      a.code_point_at.resize(a.text.size() + 1, 0);
      a.code_point_at[a.text.size()] = c;
      utf8_append(a.text, c);
    }
    return a;
  }();
  return all;
}

// The code points a compiled pattern matches, one run of them per match.
CodePointRanges members(const Regex& re) {
  const auto& all = all_scalars();
  std::vector<bool> in(0x110000, false);
  for (auto [begin, end] : re.find_all(all.text))
    for (size_t b = begin; b < end; b += utf8_len(static_cast<unsigned char>(all.text[b]))) in[all.code_point_at[b]] = true;
  CodePointRanges out;
  for (uint32_t c = 0; c < 0x110000; ++c)
    if (in[c]) {
      if (!out.empty() && out.back().last + 1 == c)
        out.back().last = c;
      else
        out.push_back({c, c});
    }
  return out;
}

// A release whose corrections we have no table for: every class is spelled out as ranges.
std::string spelled_out(const std::string& pattern) { return regex_translate_for_pcre2(pattern, "0.0 no such release"); }

TEST(UnicodeClasses, TablesEqualHuggingFaceForEveryClass) {
  ASSERT_GE(hf_classes().size(), 40u);
  for (const auto& hf : hf_classes()) {
    auto cls = class_of_escape(hf.escape);
    ASSERT_TRUE(cls) << hf.escape;
    EXPECT_EQ(without_surrogates(unicode_class_ranges(*cls)), hf.ranges) << hf.escape;
  }
}

TEST(UnicodeClasses, CategoriesOfKnownCodePoints) {
  EXPECT_EQ(unicode_category('a'), UnicodeCategory::Ll);
  EXPECT_EQ(unicode_category('A'), UnicodeCategory::Lu);
  EXPECT_EQ(unicode_category('7'), UnicodeCategory::Nd);
  EXPECT_EQ(unicode_category(0x180E), UnicodeCategory::Cf);   // not a space since Unicode 6.3
  EXPECT_EQ(unicode_category(0x16D79), UnicodeCategory::Nd);  // Kirat Rai, new in 16.0
  EXPECT_EQ(unicode_category(0xD800), UnicodeCategory::Cs);
  EXPECT_EQ(unicode_category(0x10FFFF), UnicodeCategory::Cn);
  EXPECT_EQ(unicode_category(0x110000), UnicodeCategory::Cn);
  EXPECT_TRUE(unicode_class_find("Uppercase_Letter", false));
  EXPECT_TRUE(unicode_class_find("uppercase letter", false));
  EXPECT_FALSE(unicode_class_find("Han", false));  // scripts stay with PCRE2
}

// The naive oracle for the translator: PCRE2, matching each class alone over all of Unicode, finds
// exactly the code points Hugging Face tokenizers finds.
TEST(UnicodeClasses, Pcre2MatchesHuggingFaceForEveryClass) {
  for (const auto& hf : hf_classes()) {
    const std::string runs = hf.escape + "+";
    EXPECT_EQ(members(Regex(runs)), hf.ranges) << hf.escape << " (this PCRE2's form)";
    EXPECT_EQ(members(Regex(spelled_out(runs))), hf.ranges) << hf.escape << " (spelled out)";
  }
}

TEST(UnicodeClasses, NegatedFormsMatchTheComplement) {
  for (const auto& hf : hf_classes()) {
    const std::string& e = hf.escape;
    // One of each kind: PCRE2's escape plus additions (L), one PCRE2 has members too many (s, w),
    // one whose meaning differs altogether (h).
    if (e != "\\p{L}" && e != "\\s" && e != "\\w" && e != "\\h") continue;
    const CodePointRanges want = without_surrogates(code_point_ranges_complement(hf.ranges));
    // append, not "literal" + substr: GCC 12 warns (-Wrestrict) wrongly on the latter.
    const std::string negated = e[1] == 'p' ? std::string("\\P").append(e, 2)
                                            : std::string("\\") + static_cast<char>(std::toupper(e[1]));
    const std::string caret = e[1] == 'p' ? std::string("\\p{^").append(e, 3) : negated;
    for (const std::string& pattern : {negated + "+", "[^" + e + "]+", "[" + negated + "]+", caret + "+"}) {
      EXPECT_EQ(members(Regex(pattern)), want) << pattern;
      EXPECT_EQ(members(Regex(spelled_out(pattern))), want) << pattern << " (spelled out)";
    }
  }
}

TEST(UnicodeClasses, TranslatorLeavesOtherSyntaxAlone) {
  const std::string v = "10.42 2022-12-11";
  EXPECT_EQ(regex_translate_for_pcre2("'s|'t|\\p{Han}+|\\x{41}|\\[|\\\\", v), "'s|'t|\\p{Han}+|\\x{41}|\\[|\\\\");
  EXPECT_EQ(regex_translate_for_pcre2("\\u00e9\\u3000", v), "\\x{00e9}\\x{3000}");
  EXPECT_EQ(regex_translate_for_pcre2("[]a]", v), "[]a]");
  EXPECT_EQ(regex_translate_for_pcre2("[[:alpha:]]", v), "[[:alpha:]]");
  EXPECT_EQ(regex_translate_for_pcre2("\\h", v), "[\\x{30}-\\x{39}\\x{41}-\\x{46}\\x{61}-\\x{66}]");  // hex digits
  EXPECT_EQ(regex_translate_for_pcre2("\\s", v),
            "[\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]");
  // A class may close a pattern without its brace; PCRE2 then names the problem.
  EXPECT_THROW(Regex("\\p{L"), Error);
  EXPECT_THROW(Regex("\\p{NoSuchProperty}"), Error);
}

// Each \w spells out to ~16 KB: a hostile tokenizer.json must not turn 200 KB into gigabytes.
TEST(UnicodeClasses, HugeExpansionIsRefused) {
  std::string pattern;
  for (int i = 0; i < 100000; ++i) pattern += "\\W";
  EXPECT_THROW(regex_translate_for_pcre2(pattern, "0.0"), Error);
  EXPECT_THROW(Regex{pattern}, Error);
}

// U+180E was a space before Unicode 6.3; PCRE2 10.42 still says so, Hugging Face does not.
TEST(UnicodeClasses, MongolianVowelSeparatorIsNotSpace) {
  Regex re("\\s+(?!\\S)|\\s+");
  const std::string text = std::string(" ") + "\xE1\xA0\x8E" + "x";  // " \u180e" "x"
  EXPECT_TRUE(re.find_all(text) == (std::vector<std::pair<size_t, size_t>>{{0, 1}}));
}

}  // namespace
}  // namespace optipfair
