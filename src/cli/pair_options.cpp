#include "cli/pair_options.h"

#include "util/error.h"

namespace optipfair::cli {

void add_pair_options(CLI::App* cmd, PairOptions& o) {
  cmd->add_option("--pair", o.pairs, "a prompt pair: two texts that differ in one attribute (repeatable)")
      ->expected(2)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--pairs-file", o.pairs_file, "JSONL (prompt1, prompt2, category) or CSV with a header");
  cmd->add_option("--template", o.template_text,
                  "a prompt with {attribute}, e.g. \"The {attribute} doctor examined the patient. The nurse thought\"");
  cmd->add_option("--category", o.category,
                  "attribute category for --template: race, gender, religion, nationality, age, socioeconomic, "
                  "disability, sexual_orientation");
  cmd->add_option("--attribute-pairs", o.attribute_pairs,
                  "attribute pairs for --template, e.g. male:female (default: every pair of the category)");
}

std::vector<PromptPair> collect_pairs(const PairOptions& o) {
  std::vector<PromptPair> pairs;
  if (o.pairs.size() % 2) throw Error("--pair takes exactly two prompts");
  for (size_t i = 0; i + 1 < o.pairs.size(); i += 2) pairs.push_back({o.pairs[i], o.pairs[i + 1], ""});
  if (!o.pairs_file.empty()) {
    auto more = load_prompt_pairs(o.pairs_file);
    if (more.empty()) throw Error(o.pairs_file + " holds no prompt pairs");
    pairs.insert(pairs.end(), more.begin(), more.end());
  }
  if (!o.template_text.empty()) {
    if (o.category.empty()) throw Error("--template needs --category (e.g. gender)");
    std::vector<std::pair<std::string, std::string>> attrs;
    for (const std::string& spec : o.attribute_pairs)
      for (const std::string& one : split_commas(spec)) attrs.push_back(parse_attribute_pair(one));
    auto more = generate_prompt_pairs(o.template_text, o.category, attrs);
    pairs.insert(pairs.end(), more.begin(), more.end());
  } else if (!o.category.empty() || !o.attribute_pairs.empty()) {
    throw Error("--category and --attribute-pairs need --template");
  }
  if (pairs.empty()) pairs = default_prompt_pairs();
  return pairs;
}

std::vector<std::string> pair_options_args(const PairOptions& o) {
  std::vector<std::string> args;
  for (size_t i = 0; i + 1 < o.pairs.size(); i += 2) args.insert(args.end(), {"--pair", o.pairs[i], o.pairs[i + 1]});
  if (!o.pairs_file.empty()) args.insert(args.end(), {"--pairs-file", o.pairs_file});
  if (!o.template_text.empty()) args.insert(args.end(), {"--template", o.template_text, "--category", o.category});
  for (const auto& a : o.attribute_pairs) args.insert(args.end(), {"--attribute-pairs", a});
  return args;
}

}  // namespace optipfair::cli
