// GPT-2's reversible map between the 256 byte values and printable Unicode characters, used by
// byte-level BPE vocabularies ("Ġ" is the space byte).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace optipfair {

// Each byte of `bytes` replaced by its printable character (UTF-8), appended to *out.
void byte_level_encode(std::string_view bytes, std::string* out);
// The byte a code point stands for, or -1 when it is not one of the 256 characters.
int byte_level_byte(uint32_t code_point);

}  // namespace optipfair
