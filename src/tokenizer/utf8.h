// UTF-8 helpers shared by the tokenizers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace optipfair {

// Number of bytes of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
inline size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

bool utf8_is_valid(std::string_view text);
// Replaces each maximal invalid subsequence by U+FFFD, exactly as Python's
// bytes.decode("utf-8", errors="replace") and Rust's String::from_utf8_lossy do.
std::string utf8_replace_invalid(std::string_view text);
void utf8_append(std::string& out, uint32_t code_point);
// Decodes the code point at text[pos] (text must be valid UTF-8); advances pos.
uint32_t utf8_next(std::string_view text, size_t& pos);

}  // namespace optipfair
