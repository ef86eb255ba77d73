#include "tokenizer/regex_translate.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <vector>

#include "tokenizer/unicode_classes.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace optipfair {
namespace {

// Below this many ranges a class is spelled out even when PCRE2's escape could serve: as fast, and
// independent of PCRE2's tables.
constexpr size_t kSpellOutRanges = 32;
// A spelled-out class is up to ~16 KB, so a hostile pattern of many short escapes could ask for
// gigabytes; real tokenizer patterns need a few KB (Llama-3's: 3 KB, or 40 KB spelled out).
constexpr size_t kMaxTranslatedBytes = size_t{4} << 20;

// PCRE2 refuses surrogates in a UTF pattern, and UTF-8 text cannot hold them anyway.
void append_ranges(std::string& out, const CodePointRanges& ranges) {
  auto put = [&](uint32_t a, uint32_t b) {
    char buf[40];
    if (a == b)
      std::snprintf(buf, sizeof buf, "\\x{%X}", a);
    else
      std::snprintf(buf, sizeof buf, "\\x{%X}-\\x{%X}", a, b);
    out += buf;
  };
  for (const auto& r : ranges) {
    if (r.last < 0xD800 || r.first > 0xDFFF) {
      put(r.first, r.last);
      continue;
    }
    if (r.first < 0xD800) put(r.first, 0xD7FF);
    if (r.last > 0xDFFF) put(0xE000, r.last);
  }
}

std::string pcre2_escape(std::string_view key) {
  std::string out = key.size() == 1 && std::islower(static_cast<unsigned char>(key[0])) ? "\\" : "\\p{";
  out.append(key);  // (appending, not operator+: GCC 12 gives a false -Wrestrict on the latter)
  if (out[1] == 'p') out += '}';
  return out;
}

// One class, negated or not, written for PCRE2 inside a [...] (in_set) or on its own. Under (?i),
// Oniguruma case-folds a class inside [...] but not one on its own, while PCRE2 folds listed ranges
// and never its own \p escapes: so a class inside a caseless set is listed in full (PCRE2 folds it
// as Oniguruma does) and one on its own is fenced with (?-i:...).
std::string translate_class(const UnicodeClass& cls, bool negated, bool in_set, bool caseless,
                            std::string_view pcre2_version) {
  const CodePointRanges members = unicode_class_ranges(cls);
  const auto fix = cls.key == "h" ? std::nullopt : unicode_class_pcre2_fix(cls.key, pcre2_version);
  // PCRE2's escape serves when corrections only add to it; a negated one only outside a set,
  // because "not (escape or additions)" cannot be written as members of an enclosing set.
  const bool native = fix && fix->remove.empty() && members.size() > kSpellOutRanges && !(negated && in_set) &&
                      !(caseless && in_set);
  std::string inner;
  if (native) {
    // Members below U+0100 spelled out too: PCRE2 answers those from the set's bitmap before it looks
    // at properties, so ASCII letters and digits skip the property and correction checks.
    CodePointRanges latin1;
    for (const auto& r : members)
      if (r.first < 0x100) latin1.push_back({r.first, std::min<uint32_t>(r.last, 0xFF)});
    append_ranges(inner, latin1);
    inner += pcre2_escape(cls.key);
    append_ranges(inner, fix->add);
  } else {
    append_ranges(inner, negated ? code_point_ranges_complement(members) : members);
    if (inner.empty()) return in_set ? "" : "(?!)";  // (a set cannot be empty; an empty class never matches)
    negated = false;  // already complemented
  }
  if (in_set) return inner;
  const std::string set = (negated ? "[^" : "[") + inner + "]";
  return caseless ? "(?-i:" + set + ")" : set;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string regex_translate_for_pcre2(std::string_view p, std::string_view pcre2_version) {
  std::string out;
  out.reserve(p.size());
  bool in_set = false;
  bool caseless = false;
  std::vector<bool> caseless_outside;  // one entry per open group: the state to restore at its ')'
  size_t i = 0;
  while (i < p.size()) {
    if (out.size() > kMaxTranslatedBytes)
      throw Error("tokenizer regex of " + std::to_string(p.size()) + " bytes spells out to more than " +
                  std::to_string(kMaxTranslatedBytes >> 20) + " MiB of Unicode classes");
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char letter = p[i + 1];
      if ((letter == 'p' || letter == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
        const size_t close = p.find('}', i + 3);
        if (close != std::string_view::npos) {
          std::string_view name = p.substr(i + 3, close - i - 3);
          bool negated = letter == 'P';
          if (!name.empty() && name.front() == '^') {
            negated = !negated;
            name.remove_prefix(1);
          }
          if (auto cls = unicode_class_find(name, false)) {
            out += translate_class(*cls, negated, in_set, caseless, pcre2_version);
            i = close + 1;
            continue;
          }
        }
      } else if (std::string_view("sSwWdDhH").find(letter) != std::string_view::npos) {
        const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(letter)));
        out += translate_class(*unicode_class_find(std::string_view(&lower, 1), true), letter != lower, in_set,
                               caseless, pcre2_version);
        i += 2;
        continue;
      } else if (letter == 'u' && i + 6 <= p.size() && is_hex(p[i + 2]) && is_hex(p[i + 3]) && is_hex(p[i + 4]) &&
                 is_hex(p[i + 5])) {
        out += "\\x{" + std::string(p.substr(i + 2, 4)) + "}";
        i += 6;
        continue;
      }
      // Any other escape, with the whole (possibly multi-byte) character it escapes.
      const size_t len = 1 + utf8_len(static_cast<unsigned char>(letter));
      out += p.substr(i, len);
      i += len;
      continue;
    }
    if (c == '[' && !in_set) {
      in_set = true;
      out += c;
      ++i;
      if (i < p.size() && p[i] == '^') out += p[i++];
      if (i < p.size() && p[i] == ']') out += p[i++];  // a leading ']' is a member, not the end
      continue;
    }
    if (c == '[' && in_set && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX [:name:], copied whole
      const size_t close = p.find(":]", i + 2);
      const size_t end = close == std::string_view::npos ? p.size() : close + 2;
      out += p.substr(i, end - i);
      i = end;
      continue;
    }
    if (c == '(' && !in_set) {
      caseless_outside.push_back(caseless);
      // (?flags) changes the rest of the enclosing group; (?flags:...) only its own.
      if (i + 1 < p.size() && p[i + 1] == '?') {
        size_t j = i + 2;
        bool on = true, now = caseless;
        for (; j < p.size() && (std::isalpha(static_cast<unsigned char>(p[j])) || p[j] == '-'); ++j) {
          if (p[j] == '-') on = false;
          if (p[j] == 'i') now = on;
        }
        if (j > i + 2 && j < p.size() && (p[j] == ')' || p[j] == ':')) {
          if (p[j] == ')') caseless_outside.pop_back();
          caseless = now;
        }
      }
    } else if (c == ')' && !in_set && !caseless_outside.empty()) {
      caseless = caseless_outside.back();
      caseless_outside.pop_back();
    }
    if (c == ']' && in_set) in_set = false;
    out += c;
    ++i;
  }
  return out;
}

}  // namespace optipfair
