#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace optipfair {

namespace {

struct ByteTables {
  std::array<std::string, 256> to_char;
  std::array<int16_t, 512> to_byte{};  // every mapped code point is below 512
  ByteTables() {
    to_byte.fill(-1);
    // Printable Latin-1 bytes keep their code point; the others take 256, 257, ... in order.
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++);
      utf8_append(to_char[b], cp);
      to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

void byte_level_encode(std::string_view bytes, std::string* out) {
  const auto& t = tables();
  for (unsigned char b : bytes) *out += t.to_char[b];
}

int byte_level_byte(uint32_t code_point) {
  return code_point < 512 ? tables().to_byte[code_point] : -1;
}

}  // namespace optipfair
