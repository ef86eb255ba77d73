#include "cli/cli_values.h"

#include "util/error.h"

namespace optipfair::cli {

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(start, end - start);
    if (item.find_first_not_of(" \t") != std::string::npos) out.push_back(item);
    start = end + 1;
  }
  return out;
}

int parse_int(const std::string& s, const std::string& what) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (s.find_first_not_of(" \t", used) == std::string::npos) return v;
  } catch (const std::exception&) {
  }
  throw Error(what + " '" + s + "' is not a whole number");
}

double parse_double(const std::string& s, const std::string& what) {
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (s.find_first_not_of(" \t", used) == std::string::npos) return v;
  } catch (const std::exception&) {
  }
  throw Error(what + " '" + s + "' is not a number");
}

std::vector<int> parse_layer_list(const std::string& s) {
  std::vector<int> out;
  for (const std::string& item : split_commas(s)) out.push_back(parse_int(item, "layer index"));
  if (out.empty()) throw Error("--layer-indices is empty; give indices like 2,5");
  return out;
}

// "13:10,14:15" -> {13: 10, 14: 15} (percentages).
std::map<int, double> parse_layer_config(const std::string& s) {
  std::map<int, double> out;
  for (const std::string& item : split_commas(s)) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos) throw Error("--layer-config entry '" + item + "' should look like LAYER:PERCENT, e.g. 13:10");
    const int layer = parse_int(item.substr(0, colon), "layer index");
    if (!out.emplace(layer, parse_double(item.substr(colon + 1), "percentage")).second)
      throw Error("layer " + std::to_string(layer) + " appears twice in --layer-config");
  }
  if (out.empty()) throw Error("--layer-config is empty; give entries like 13:10,14:15");
  return out;
}

}  // namespace optipfair::cli
