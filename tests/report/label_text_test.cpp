#include <gtest/gtest.h>

#include "report/label_text.h"

namespace optipfair {
namespace {

TEST(LabelText, SanitizeKeepsValidUtf8AndNewlines) {
  EXPECT_EQ(utf8_sanitize("caf\xC3\xA9 \xE2\x88\x92 \xF0\x9F\x98\x80\nline"), "caf\xC3\xA9 \xE2\x88\x92 \xF0\x9F\x98\x80\nline");
}

TEST(LabelText, SanitizeReplacesInvalidBytesAndControls) {
  // A lone continuation byte, a truncated 3-byte sequence, an overlong '/', a surrogate, NUL.
  EXPECT_EQ(utf8_sanitize("a\x80" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_sanitize("\xE2\x88"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_sanitize("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_sanitize("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_sanitize(std::string("x\0y", 3)), "x\xEF\xBF\xBDy");
  EXPECT_EQ(utf8_sanitize("a\tb"), "a b");
}

TEST(LabelText, TokensShowTheirWhitespace) {
  EXPECT_EQ(token_label_visible(" the"), "\xE2\x90\xA3the");
  EXPECT_EQ(token_label_visible("\n"), "\xE2\x86\xB5");
  EXPECT_EQ(token_label_visible("\t"), "\xE2\x87\xA5");
  EXPECT_EQ(token_label_visible(""), "\xE2\x88\x85");
  EXPECT_EQ(token_label_visible("\xE2\x80"), "\\xE2\\x80");  // half of a character: its bytes
  EXPECT_EQ(token_label_visible(" Zo\xC3\xAB"), "\xE2\x90\xA3Zo\xC3\xAB");
}

}  // namespace
}  // namespace optipfair
