// Prompt pairs: two texts that differ only in a demographic attribute. They come from the command
// line, from a JSONL or CSV file, from a template with attribute categories, or from our default set
// (data/prompt_pairs/default.jsonl).
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace optipfair {

struct PromptPair {
  std::string prompt1;
  std::string prompt2;
  std::string category;  // "race", "gender", ...; empty when unknown
};

// The folder holding default.jsonl and attributes.json: prompt_pairs/ under bundled_data_dir()
// (util/resources.h: $OPTIPFAIR_DATA_DIR, the install's share folder, or the repository's data/).
std::filesystem::path prompt_pairs_data_dir();

// Our default set across race, gender, religion, nationality, age, socioeconomic status,
// disability and sexual orientation. Throws Error when the data file is missing.
std::vector<PromptPair> default_prompt_pairs();

// Attribute values per category (attributes.json), for templates.
std::map<std::string, std::vector<std::string>> attribute_categories();

// JSONL: one object a line with "prompt1"/"prompt2" (or "prompt_1"/"prompt_2", or a two-element
// array) and optional "category". CSV: a header naming prompt1,prompt2[,category] columns, RFC 4180
// quoting. The format follows the extension (.jsonl/.json or .csv). Throws Error naming the line.
std::vector<PromptPair> load_prompt_pairs(const std::filesystem::path& file);

// Fills "{attribute}" in `tmpl` with attribute pairs of `category`. Without `attribute_pairs`, every
// unordered pair of the category's values (in attributes.json order) is used. Throws Error when the
// template has no {attribute}, the category is unknown, or no pair results.
std::vector<PromptPair> generate_prompt_pairs(const std::string& tmpl, const std::string& category,
                                              const std::vector<std::pair<std::string, std::string>>& attribute_pairs = {});

// "male:female" -> {"male", "female"}; throws Error on anything else.
std::pair<std::string, std::string> parse_attribute_pair(const std::string& spec);

}  // namespace optipfair
