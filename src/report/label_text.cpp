#include "report/label_text.h"

#include <cstdio>

namespace optipfair {

namespace {

// Length of the valid UTF-8 sequence starting at `at`, or 0 when the byte there starts none.
std::size_t valid_sequence_length(std::string_view s, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(at);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned int cp = 0;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (at + n > s.size()) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(at + i) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid UTF-8.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  if (cp > 0x10FFFF) return 0;
  return n;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::size_t utf8_char_length(std::string_view text, std::size_t at) {
  const std::size_t n = valid_sequence_length(text, at);
  return n == 0 ? 1 : n;
}

std::string utf8_sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = valid_sequence_length(text, i);
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 0) {
      out += kReplacement;
      i += 1;
    } else if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\n') {
      // A tab reads like a space; other control bytes are never meant to be seen.
      if (c == '\t') out += ' ';
      else out += kReplacement;
      i += 1;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string token_label_visible(std::string_view token) {
  if (token.empty()) return "\xE2\x88\x85";  // ∅
  std::string out;
  for (std::size_t i = 0; i < token.size();) {
    const std::size_t n = valid_sequence_length(token, i);
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (n == 1 && c == ' ') {
      out += "\xE2\x90\xA3";  // ␣
    } else if (n == 1 && c == '\n') {
      out += "\xE2\x86\xB5";  // ↵
    } else if (n == 1 && c == '\t') {
      out += "\xE2\x87\xA5";  // ⇥
    } else if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
      i += 1;
      continue;
    } else {
      out.append(token.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace optipfair
