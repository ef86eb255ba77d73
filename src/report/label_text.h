// Text cleaning shared by the charts and the HTML report. Token strings come straight from
// tokenizers: they may hold partial UTF-8 sequences, control bytes and spaces that would be
// invisible (or, for cairo, make the whole drawing fail), so every string is cleaned first.
#pragma once
#include <string>
#include <string_view>

namespace optipfair {

// Valid UTF-8: each invalid byte becomes U+FFFD; control characters other than '\n' become
// U+FFFD too, so a label can never break a drawing or a document.
std::string utf8_sanitize(std::string_view text);

// A token as a reader should see it: ' ' -> '␣', '\n' -> '↵', '\t' -> '⇥', other control bytes
// and invalid bytes -> "\xNN", empty -> "∅". Used for heatmap rows and PCA point labels.
std::string token_label_visible(std::string_view token);

// Splits valid UTF-8 into code-point-sized pieces (for wrapping and truncating by width).
std::size_t utf8_char_length(std::string_view text, std::size_t at);

}  // namespace optipfair
