// Tokenizer patterns are written for Hugging Face tokenizers' engine (Oniguruma); we match them with
// PCRE2. This rewrites the classes whose meaning differs between the two (see unicode_classes.h)
// so that PCRE2 matches what Hugging Face tokenizers matches.
#pragma once
#include <string>
#include <string_view>

namespace optipfair {

// Rewrites \p{X} \P{X} \p{^X} for general categories, \s \S \w \W \d \D, Oniguruma's \h \H (hex
// digits) and \uHHHH. Other syntax is copied as it is. `pcre2_version` (pcre2_config's
// PCRE2_CONFIG_VERSION) picks the fast form — PCRE2's own escape plus corrections — when the
// corrections were generated for that release, and code-point ranges otherwise. Throws Error when
// the result would exceed 4 MiB.
std::string regex_translate_for_pcre2(std::string_view pattern, std::string_view pcre2_version);

}  // namespace optipfair
