#include "tokenizer/unicode_classes.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "tokenizer/unicode_tables.h"

namespace optipfair {
namespace {

using enum UnicodeCategory;

constexpr uint32_t bit(UnicodeCategory c) { return 1u << static_cast<uint32_t>(c); }
constexpr uint32_t bits(std::initializer_list<UnicodeCategory> cs) {
  uint32_t b = 0;
  for (auto c : cs) b |= bit(c);
  return b;
}

struct CategoryName {
  std::string_view key, long_name;
  uint32_t categories;
};

// Oniguruma's General_Category names (short and long) that we answer ourselves. \p{Cs} is left to
// PCRE2: it matches nothing in UTF-8 text in both engines.
constexpr std::array<CategoryName, 37> kCategoryNames{{
    {"L", "letter", bits({Lu, Ll, Lt, Lm, Lo})},
    {"LC", "casedletter", bits({Lu, Ll, Lt})},
    {"Lu", "uppercaseletter", bit(Lu)},
    {"Ll", "lowercaseletter", bit(Ll)},
    {"Lt", "titlecaseletter", bit(Lt)},
    {"Lm", "modifierletter", bit(Lm)},
    {"Lo", "otherletter", bit(Lo)},
    {"M", "mark", bits({Mn, Mc, Me})},
    {"Mn", "nonspacingmark", bit(Mn)},
    {"Mc", "spacingmark", bit(Mc)},
    {"Me", "enclosingmark", bit(Me)},
    {"N", "number", bits({Nd, Nl, No})},
    {"Nd", "decimalnumber", bit(Nd)},
    {"Nl", "letternumber", bit(Nl)},
    {"No", "othernumber", bit(No)},
    {"P", "punctuation", bits({Pc, Pd, Ps, Pe, Pi, Pf, Po})},
    {"Pc", "connectorpunctuation", bit(Pc)},
    {"Pd", "dashpunctuation", bit(Pd)},
    {"Ps", "openpunctuation", bit(Ps)},
    {"Pe", "closepunctuation", bit(Pe)},
    {"Pi", "initialpunctuation", bit(Pi)},
    {"Pf", "finalpunctuation", bit(Pf)},
    {"Po", "otherpunctuation", bit(Po)},
    {"S", "symbol", bits({Sm, Sc, Sk, So})},
    {"Sm", "mathsymbol", bit(Sm)},
    {"Sc", "currencysymbol", bit(Sc)},
    {"Sk", "modifiersymbol", bit(Sk)},
    {"So", "othersymbol", bit(So)},
    {"Z", "separator", bits({Zs, Zl, Zp})},
    {"Zs", "spaceseparator", bit(Zs)},
    {"Zl", "lineseparator", bit(Zl)},
    {"Zp", "paragraphseparator", bit(Zp)},
    {"C", "other", bits({Cc, Cf, Cs, Co, Cn})},
    {"Cc", "control", bit(Cc)},
    {"Cf", "format", bit(Cf)},
    {"Co", "privateuse", bit(Co)},
    {"Cn", "unassigned", bit(Cn)},
}};

// Oniguruma compares property names ignoring case, spaces, underscores and hyphens.
std::string loose(std::string_view name) {
  std::string out;
  for (char c : name)
    if (c != ' ' && c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void append_merged(CodePointRanges& out, CodePointRange r) {
  if (!out.empty() && r.first <= out.back().last + 1) {
    out.back().last = std::max(out.back().last, r.last);
  } else {
    out.push_back(r);
  }
}

}  // namespace

UnicodeCategory unicode_category(uint32_t code_point) {
  if (code_point > 0x10FFFF) return Cn;
  const auto runs = unicode_tables::category_runs;
  auto it = std::upper_bound(runs.begin(), runs.end(), code_point,
                             [](uint32_t cp, const unicode_tables::CategoryRun& run) { return cp < run.first; });
  return std::prev(it)->category;  // the first run starts at 0
}

std::optional<UnicodeClass> unicode_class_find(std::string_view name, bool escape) {
  if (escape) {
    if (name == "s") return UnicodeClass{"s", 0, unicode_tables::space};
    if (name == "w") return UnicodeClass{"w", bits({Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, Pc}), unicode_tables::word_extra};
    if (name == "d") return UnicodeClass{"d", bit(Nd), {}};
    if (name == "h") return UnicodeClass{"h", 0, unicode_tables::hex_digit};
    return std::nullopt;
  }
  const std::string wanted = loose(name);
  for (const auto& c : kCategoryNames)
    if (wanted == loose(c.key) || wanted == c.long_name) return UnicodeClass{c.key, c.categories, {}};
  if (wanted == "combiningmark") return unicode_class_find("M", false);
  if (wanted == "punct") return unicode_class_find("P", false);
  if (wanted == "digit") return unicode_class_find("Nd", false);
  return std::nullopt;
}

CodePointRanges unicode_class_ranges(const UnicodeClass& cls) {
  CodePointRanges from_categories;
  const auto runs = unicode_tables::category_runs;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!(cls.categories & bit(runs[i].category))) continue;
    const uint32_t last = i + 1 < runs.size() ? runs[i + 1].first - 1 : 0x10FFFF;
    append_merged(from_categories, {runs[i].first, last});
  }
  CodePointRanges all(from_categories);
  all.insert(all.end(), cls.extra.begin(), cls.extra.end());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CodePointRanges merged;
  for (const auto& r : all) append_merged(merged, r);
  return merged;
}

CodePointRanges code_point_ranges_complement(const CodePointRanges& ranges) {
  CodePointRanges out;
  uint32_t next = 0;
  for (const auto& r : ranges) {
    if (r.first > next) out.push_back({next, r.first - 1});
    next = r.last + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}

std::optional<Pcre2ClassFix> unicode_class_pcre2_fix(std::string_view key, std::string_view pcre2_version) {
  if (pcre2_version != unicode_tables::pcre2_version) return std::nullopt;
  for (const auto& fix : unicode_tables::pcre2_fixes)
    if (fix.key == key)
      return Pcre2ClassFix{{fix.add.begin(), fix.add.end()}, {fix.remove.begin(), fix.remove.end()}};
  return std::nullopt;
}

}  // namespace optipfair
