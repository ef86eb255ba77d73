#include "tokenizer/utf8.h"

namespace optipfair {

namespace {

// Length of the valid sequence at text[i], or 0 with *consumed set to the maximal invalid
// subpart (at least 1 byte) that one U+FFFD replaces.
size_t valid_sequence_at(std::string_view text, size_t i, size_t* consumed) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b == 0xE0) {
    need = 2, lo = 0xA0;
  } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
    need = 2;
  } else if (b == 0xED) {
    need = 2, hi = 0x9F;
  } else if (b == 0xF0) {
    need = 3, lo = 0x90;
  } else if (b >= 0xF1 && b <= 0xF3) {
    need = 3;
  } else if (b == 0xF4) {
    need = 3, hi = 0x8F;
  } else {
    *consumed = 1;
    return 0;
  }
  size_t j = i + 1;
  for (size_t k = 0; k < need; ++k) {
    if (j < text.size() && byte(j) >= lo && byte(j) <= hi) {
      ++j;
      lo = 0x80, hi = 0xBF;
    } else {
      *consumed = j - i;
      return 0;
    }
  }
  return j - i;
}

}  // namespace

bool utf8_is_valid(std::string_view text) {
  size_t i = 0, consumed = 0;
  while (i < text.size()) {
    size_t n = valid_sequence_at(text, i, &consumed);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string utf8_replace_invalid(std::string_view text) {
  if (utf8_is_valid(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0, consumed = 0;
  while (i < text.size()) {
    size_t n = valid_sequence_at(text, i, &consumed);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      i += consumed;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t utf8_next(std::string_view text, size_t& pos) {
  unsigned char b = static_cast<unsigned char>(text[pos]);
  size_t n = utf8_len(b);
  if (pos + n > text.size()) n = 1;
  uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[pos + k]) & 0x3F);
  pos += n;
  return cp;
}

}  // namespace optipfair
