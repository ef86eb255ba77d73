// Parsing and printing of command-line values shared by several commands. Each parser throws
// Error naming the option and the value it could not read.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace optipfair::cli {

// "1,234,567".
std::string with_commas(int64_t n);
// "a,b,,c" -> {"a", "b", "c"}; blank items are dropped.
std::vector<std::string> split_commas(const std::string& s);
int parse_int(const std::string& s, const std::string& what);
double parse_double(const std::string& s, const std::string& what);
// "2,5" -> {2, 5}.
std::vector<int> parse_layer_list(const std::string& s);
// "13:10,14:15" -> {13: 10, 14: 15} (percentages).
std::map<int, double> parse_layer_config(const std::string& s);

}  // namespace optipfair::cli
