// Writes src/tokenizer/unicode_tables.cpp from the classes Hugging Face tokenizers reports
// (tools/hf_tokenizers/unicode_classes.js → tests/tokenizer/data/hf_unicode_classes.tsv), adding how
// each class differs from the PCRE2 library this tool is linked with:
//   make_unicode_tables tests/tokenizer/data/hf_unicode_classes.tsv src/tokenizer/unicode_tables.cpp
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kScalars = 0x110000;
const char* const kCategories[] = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl",
                                   "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc",
                                   "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"};

bool surrogate(uint32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

using Members = std::vector<bool>;
struct Range {
  uint32_t first, last;
};

std::vector<Range> ranges_of(const Members& m) {
  std::vector<Range> out;
  for (uint32_t c = 0; c < kScalars; ++c) {
    if (!m[c]) continue;
    uint32_t last = c;
    while (last + 1 < kScalars && m[last + 1]) ++last;
    out.push_back({c, last});
    c = last;
  }
  return out;
}

void put_utf8(std::string& s, uint32_t c) {
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | c >> 6);
    s += static_cast<char>(0x80 | (c & 63));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | c >> 12);
    s += static_cast<char>(0x80 | (c >> 6 & 63));
    s += static_cast<char>(0x80 | (c & 63));
  } else {
    s += static_cast<char>(0xF0 | c >> 18);
    s += static_cast<char>(0x80 | (c >> 12 & 63));
    s += static_cast<char>(0x80 | (c >> 6 & 63));
    s += static_cast<char>(0x80 | (c & 63));
  }
}

// Which scalars PCRE2 (UTF + UCP, as src/tokenizer/regex.cpp compiles) puts in `escape`.
Members pcre2_members(const std::string& escape) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(escape.data()), escape.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &error, &offset, nullptr);
  if (!code) throw std::runtime_error("PCRE2 does not compile " + escape);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  Members m(kScalars, false);
  std::string one;
  for (uint32_t c = 0; c < kScalars; ++c) {
    if (surrogate(c)) continue;
    one.clear();
    put_utf8(one, c);
    m[c] = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(one.data()), one.size(), 0, 0, data, nullptr) > 0;
  }
  pcre2_match_data_free(data);
  pcre2_code_free(code);
  return m;
}

void write_ranges(std::ostream& out, const std::string& name, const std::vector<Range>& ranges) {
  out << "constexpr CodePointRange " << name << "[] = {";
  for (size_t i = 0; i < ranges.size(); ++i) {
    out << (i % 8 == 0 ? "\n    " : " ");
    char buf[48];
    std::snprintf(buf, sizeof buf, "{0x%X, 0x%X},", ranges[i].first, ranges[i].last);
    out << buf;
  }
  if (ranges.empty()) out << "{0, 0}";  // a zero-length array is not C++; the span below says 0
  out << "\n};\n";
}

std::string key_of(const std::string& escape) {  // "\p{Lu}" -> "Lu", "\s" -> "s"
  return escape.rfind("\\p{", 0) == 0 ? escape.substr(3, escape.size() - 4) : escape.substr(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_unicode_tables CLASSES.tsv OUTPUT.cpp\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::map<std::string, Members> hf;  // by key
  std::vector<std::string> escapes;
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const std::string escape = line.substr(0, tab);
    Members m(kScalars, false);
    std::istringstream ranges(line.substr(tab + 1));
    for (std::string r; ranges >> r;) {
      const auto dash = r.find('-');
      const uint32_t a = std::stoul(r.substr(0, dash), nullptr, 16), b = std::stoul(r.substr(dash + 1), nullptr, 16);
      for (uint32_t c = a; c <= b; ++c) m[c] = true;
    }
    hf[key_of(escape)] = std::move(m);
    escapes.push_back(escape);
  }
  // The two-letter categories must cover every scalar value exactly once.
  std::vector<int> category(kScalars, -1);
  for (int k = 0; k < 30; ++k) {
    if (std::string(kCategories[k]) == "Cs") continue;
    const Members& m = hf.at(kCategories[k]);
    for (uint32_t c = 0; c < kScalars; ++c) {
      if (!m[c]) continue;
      if (category[c] != -1) throw std::runtime_error("code point in two categories");
      category[c] = k;
    }
  }
  for (uint32_t c = 0; c < kScalars; ++c) {
    if (surrogate(c)) category[c] = 27;  // Cs
    if (category[c] == -1) throw std::runtime_error("code point in no category");
  }
  Members word_base(kScalars, false), word_extra(kScalars, false);
  for (uint32_t c = 0; c < kScalars; ++c) {
    const std::string cat = kCategories[category[c]];
    word_base[c] = cat[0] == 'L' || cat[0] == 'M' || cat == "Nd" || cat == "Nl" || cat == "Pc";
    if (word_base[c] && !hf.at("w")[c]) throw std::runtime_error("\\w lacks a letter, mark, digit or connector");
    word_extra[c] = hf.at("w")[c] && !word_base[c];
  }

  std::ofstream out(argv[2]);
  out << "// Generated by tools/make_unicode_tables from tests/tokenizer/data/hf_unicode_classes.tsv (what\n"
         "// Hugging Face tokenizers 0.23.2 matches; Unicode 16.0.0) against PCRE2 "
      << PCRE2_MAJOR << "." << PCRE2_MINOR << ". Do not edit.\n"
      << "#include \"tokenizer/unicode_tables.h\"\n\nnamespace optipfair::unicode_tables {\nnamespace {\n\n"
      << "using enum UnicodeCategory;\n\nconstexpr CategoryRun kRuns[] = {";
  size_t n_runs = 0;
  for (uint32_t c = 0; c < kScalars; ++c) {
    if (c > 0 && category[c] == category[c - 1]) continue;
    out << (n_runs % 12 == 0 ? "\n    " : " ");
    char buf[48];
    std::snprintf(buf, sizeof buf, "{0x%X, %s},", c, kCategories[category[c]]);
    out << buf;
    ++n_runs;
  }
  out << "\n};\n";
  write_ranges(out, "kWordExtra", ranges_of(word_extra));
  write_ranges(out, "kSpace", ranges_of(hf.at("s")));
  write_ranges(out, "kHexDigit", ranges_of(hf.at("h")));

  // PCRE2's own escape for each class, and what it gets wrong. \h means something else there.
  std::string fixes;
  for (const auto& escape : escapes) {
    const std::string key = key_of(escape);
    if (key == "h") continue;
    const Members ours = pcre2_members(escape);
    Members add(kScalars, false), remove(kScalars, false);
    for (uint32_t c = 0; c < kScalars; ++c) {
      add[c] = hf.at(key)[c] && !ours[c];
      remove[c] = !hf.at(key)[c] && ours[c];
    }
    const auto a = ranges_of(add), r = ranges_of(remove);
    write_ranges(out, "kAdd_" + key, a);
    write_ranges(out, "kRemove_" + key, r);
    fixes += "    {\"" + key + "\", {kAdd_" + key + ", " + std::to_string(a.size()) + "}, {kRemove_" + key + ", " +
             std::to_string(r.size()) + "}},\n";
  }
  out << "\nconstexpr Pcre2Fix kFixes[] = {\n" << fixes << "};\n\n}  // namespace\n\n";
  char version[64];
  pcre2_config(PCRE2_CONFIG_VERSION, version);
  out << "const std::span<const CategoryRun> category_runs = kRuns;\n"
         "const std::span<const CodePointRange> word_extra = kWordExtra;\n"
         "const std::span<const CodePointRange> space = kSpace;\n"
         "const std::span<const CodePointRange> hex_digit = kHexDigit;\n"
         "const std::string_view pcre2_version = \""
      << version << "\";\nconst std::span<const Pcre2Fix> pcre2_fixes = kFixes;\n\n}  // namespace optipfair::unicode_tables\n";
  std::cerr << n_runs << " category runs written to " << argv[2] << "\n";
  return 0;
}
