#include "bias/prompt_pairs.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/resources.h"

namespace optipfair {

namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open prompt pair file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string where(const std::filesystem::path& file, size_t line) {
  return file.string() + " line " + std::to_string(line);
}

PromptPair pair_from_json(const nlohmann::json& j, const std::string& at) {
  PromptPair p;
  if (j.is_array()) {
    if (j.size() < 2 || !j[0].is_string() || !j[1].is_string())
      throw Error(at + ": a pair given as an array needs two strings");
    p.prompt1 = j[0].get<std::string>();
    p.prompt2 = j[1].get<std::string>();
    if (j.size() > 2 && j[2].is_string()) p.category = j[2].get<std::string>();
    return p;
  }
  if (!j.is_object()) throw Error(at + ": expected an object with prompt1 and prompt2");
  auto text = [&](const char* a, const char* b) -> std::string {
    for (const char* k : {a, b})
      if (j.contains(k)) {
        if (!j[k].is_string()) throw Error(at + ": '" + k + "' is not a string");
        return j[k].get<std::string>();
      }
    throw Error(at + ": missing '" + std::string(a) + "'");
  };
  p.prompt1 = text("prompt1", "prompt_1");
  p.prompt2 = text("prompt2", "prompt_2");
  if (j.contains("category") && j["category"].is_string()) p.category = j["category"].get<std::string>();
  return p;
}

// One CSV record starting at `pos`; handles quoted fields with "" escapes and newlines inside quotes.
bool csv_record(const std::string& s, size_t& pos, std::vector<std::string>& fields) {
  fields.clear();
  if (pos >= s.size()) return false;
  std::string field;
  bool quoted = false, any = false;
  while (pos < s.size()) {
    char c = s[pos++];
    any = true;
    if (quoted) {
      if (c == '"') {
        if (pos < s.size() && s[pos] == '"') {
          field += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
      break;
    } else {
      field += c;
    }
  }
  if (any) fields.push_back(field);
  return true;
}

std::vector<PromptPair> load_csv(const std::filesystem::path& file) {
  const std::string s = read_text(file);
  size_t pos = 0, line = 0;
  std::vector<std::string> f;
  int c1 = -1, c2 = -1, cc = -1;
  while (csv_record(s, pos, f)) {
    ++line;
    if (f.size() == 1 && f[0].empty()) continue;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] == "prompt1" || f[i] == "prompt_1") c1 = static_cast<int>(i);
      if (f[i] == "prompt2" || f[i] == "prompt_2") c2 = static_cast<int>(i);
      if (f[i] == "category") cc = static_cast<int>(i);
    }
    break;
  }
  if (c1 < 0 || c2 < 0) throw Error(file.string() + ": the CSV header must name the columns prompt1 and prompt2");
  std::vector<PromptPair> pairs;
  while (csv_record(s, pos, f)) {
    ++line;
    if (f.empty() || (f.size() == 1 && f[0].empty())) continue;
    const size_t need = static_cast<size_t>(std::max(c1, c2)) + 1;
    if (f.size() < need) throw Error(where(file, line) + ": expected at least " + std::to_string(need) + " columns");
    PromptPair p{f[static_cast<size_t>(c1)], f[static_cast<size_t>(c2)], ""};
    if (cc >= 0 && static_cast<size_t>(cc) < f.size()) p.category = f[static_cast<size_t>(cc)];
    pairs.push_back(std::move(p));
  }
  return pairs;
}

std::vector<PromptPair> load_jsonl(const std::filesystem::path& file) {
  const std::string s = read_text(file);
  // A whole-file JSON array is accepted too.
  size_t first = s.find_first_not_of(" \t\r\n");
  std::vector<PromptPair> pairs;
  if (first != std::string::npos && s[first] == '[') {
    nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
    if (j.is_discarded()) throw Error(file.string() + " is not valid JSON");
    for (size_t i = 0; i < j.size(); ++i) pairs.push_back(pair_from_json(j[i], file.string() + " item " + std::to_string(i + 1)));
    return pairs;
  }
  std::istringstream in(s);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) throw Error(where(file, n) + " is not valid JSON");
    pairs.push_back(pair_from_json(j, where(file, n)));
  }
  return pairs;
}

}  // namespace

std::filesystem::path prompt_pairs_data_dir() { return bundled_data_dir() / "prompt_pairs"; }

std::vector<PromptPair> default_prompt_pairs() {
  const auto file = prompt_pairs_data_dir() / "default.jsonl";
  if (!std::filesystem::exists(file))
    throw Error("the default prompt pairs are missing (" + file.string() + "); set OPTIPFAIR_DATA_DIR or give pairs");
  return load_jsonl(file);
}

std::map<std::string, std::vector<std::string>> attribute_categories() {
  const auto file = prompt_pairs_data_dir() / "attributes.json";
  nlohmann::json j = nlohmann::json::parse(read_text(file), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(file.string() + " is not a JSON object of attribute lists");
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [k, v] : j.items()) out[k] = v.get<std::vector<std::string>>();
  return out;
}

std::vector<PromptPair> load_prompt_pairs(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw Error("prompt pair file " + file.string() + " does not exist");
  const std::string ext = file.extension().string();
  std::vector<PromptPair> pairs = ext == ".csv" ? load_csv(file) : load_jsonl(file);
  if (pairs.empty()) throw Error("prompt pair file " + file.string() + " holds no pairs");
  return pairs;
}

std::pair<std::string, std::string> parse_attribute_pair(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= spec.size() || spec.find(':', colon + 1) != std::string::npos)
    throw Error("attribute pair '" + spec + "' must look like first:second (e.g. male:female)");
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

std::vector<PromptPair> generate_prompt_pairs(const std::string& tmpl, const std::string& category,
                                              const std::vector<std::pair<std::string, std::string>>& attribute_pairs) {
  static const std::string kSlot = "{attribute}";
  if (tmpl.find(kSlot) == std::string::npos) throw Error("the template has no {attribute} slot to fill: " + tmpl);
  auto fill = [&](const std::string& value) {
    std::string out = tmpl;
    for (size_t p = out.find(kSlot); p != std::string::npos; p = out.find(kSlot, p + value.size()))
      out.replace(p, kSlot.size(), value);
    return out;
  };
  std::vector<std::pair<std::string, std::string>> use = attribute_pairs;
  if (use.empty()) {
    const auto cats = attribute_categories();
    auto it = cats.find(category);
    if (it == cats.end()) {
      std::string known;
      for (auto& [k, v] : cats) known += (known.empty() ? "" : ", ") + k;
      throw Error("unknown attribute category '" + category + "' (known: " + known + ")");
    }
    for (size_t i = 0; i < it->second.size(); ++i)
      for (size_t j = i + 1; j < it->second.size(); ++j) use.emplace_back(it->second[i], it->second[j]);
  }
  std::vector<PromptPair> pairs;
  for (auto& [a, b] : use) pairs.push_back({fill(a), fill(b), category});
  if (pairs.empty()) throw Error("the template produced no prompt pairs for category '" + category + "'");
  return pairs;
}

}  // namespace optipfair
