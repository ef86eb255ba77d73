// Checks on HTML text shared by the report tests.
#pragma once
#include <string>

namespace optipfair {

// "" when every element is closed in order (void elements excepted), else what is wrong.
std::string html_balance_problem(const std::string& html);

// Occurrences of `needle` in `haystack`.
std::size_t count_of(const std::string& haystack, const std::string& needle);

}  // namespace optipfair
