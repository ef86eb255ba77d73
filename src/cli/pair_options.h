// Where `bias` and `fair-prune` take their prompt pairs from: --pair, --pairs-file, --template with
// --category/--attribute-pairs; with none of them, our default set.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bias/prompt_pairs.h"
#include "cli/cli_values.h"

namespace optipfair::cli {

struct PairOptions {
  std::vector<std::string> pairs;  // flat: two texts per --pair
  std::string pairs_file;
  std::string template_text;
  std::string category;
  std::vector<std::string> attribute_pairs;
};

void add_pair_options(CLI::App* cmd, PairOptions& options);
// Throws Error on an odd --pair, a file without pairs, or a template without its category.
std::vector<PromptPair> collect_pairs(const PairOptions& options);
// The same options as command-line words (for the "regenerate" command of a report).
std::vector<std::string> pair_options_args(const PairOptions& options);

}  // namespace optipfair::cli
