// The JSON bodies the server accepts, read into plain structs with every field checked: a request
// is untrusted input, so counts and lengths are bounded and a wrong type is one clear sentence.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bias/fairness_pruner.h"
#include "bias/prompt_pairs.h"
#include "model/capture.h"
#include "prune/apply.h"

namespace optipfair {

struct ServeLimits {
  size_t max_pairs = 256;
  size_t max_prompt_bytes = 2000;
};

struct AnalyzeRequest {
  std::string model;
  std::vector<PromptPair> pairs;
  bool fast = false;          // bf16-rounded activations allowed (the CLI's --fast)
  int64_t plot_pairs = 4;     // pairs whose token-level activations are kept for figures
};

struct FairPruneRequest {
  std::string model;
  std::vector<PromptPair> pairs;
  std::vector<PromptPair> held_out_pairs;
  FairnessPlan plan;
  PruneMode mode = PruneMode::Remove;
  bool generate = true;       // continuations before and after (greedy and the notebook's beams)
  bool fast = false;
};

struct CompareRequest {
  std::string model_a, model_b;
  std::vector<PromptPair> pairs;
  bool fast = false;
};

// Each throws Error naming the field that is missing, of the wrong type or out of range.
AnalyzeRequest parse_analyze_request(const nlohmann::json& body, const ServeLimits& limits);
FairPruneRequest parse_fair_prune_request(const nlohmann::json& body, const ServeLimits& limits);
CompareRequest parse_compare_request(const nlohmann::json& body, const ServeLimits& limits);

// Parses a request body; throws Error when it is not a JSON object.
nlohmann::json parse_request_body(const std::string& body);

// A name for a saved model: letters, digits, '.', '-', '_', not starting with '.', at most 100
// characters. Throws Error otherwise (it becomes one path component under the output folder).
std::string checked_output_name(const std::string& name);

}  // namespace optipfair
