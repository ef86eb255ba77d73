// Text handling the evaluation tasks need, with Python's rules where lm-eval's results depend on
// them (str.isspace, re's \s, len() in code points).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace optipfair {

// Python's str.isspace() for one code point (also what re's \s matches in str patterns).
bool python_isspace(char32_t cp);

// Python's str.rstrip() / str.strip() with no argument, on UTF-8.
std::string python_rstrip(std::string_view s);
std::string python_strip(std::string_view s);

// len(str) in Python: the number of code points of valid UTF-8 (invalid bytes count one each).
int64_t utf8_length(std::string_view s);

// len(re.split(r"\s+", s)): maximal whitespace runs + 1 (lm-eval's wikitext word count).
int64_t count_words_python(std::string_view s);

// lm-eval's wikitext_detokenizer (tasks/wikitext/preprocess_wikitext.py), step for step.
std::string wikitext_detokenize(std::string_view page);

// The articles of a WikiText raw file, as the EleutherAI/wikitext_document_level data set splits
// them: a new page starts at each line of the form " = Title = " (one '=' each side, after
// collapsing "= = =" and "= =" headings); each page keeps its lines joined by "\n".
std::vector<std::string> wikitext_split_documents(std::string_view raw);

// One CSV record per row (RFC 4180 quoting: "" inside quotes, quoted newlines). Throws nothing;
// a row with an unterminated quote is returned as is and flagged in *bad_row (1-based line of
// the first such row, 0 when none).
std::vector<std::vector<std::string>> parse_csv(std::string_view text, int64_t* bad_row);

}  // namespace optipfair
