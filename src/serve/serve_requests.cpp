#include "serve/serve_requests.h"

#include <cmath>

#include "util/error.h"

namespace optipfair {

namespace {

using json = nlohmann::json;

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field(const json& body, const char* name, bool required, const std::string& fallback = {}) {
  const json* v = field(body, name);
  if (!v) {
    if (required) throw Error(std::string("the request has no \"") + name + "\"");
    return fallback;
  }
  if (!v->is_string()) throw Error(std::string("\"") + name + "\" must be a string");
  return v->get<std::string>();
}

bool bool_field(const json& body, const char* name, bool fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) throw Error(std::string("\"") + name + "\" must be true or false");
  return v->get<bool>();
}

double number_field(const json& body, const char* name, double fallback, double lo, double hi) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_number()) throw Error(std::string("\"") + name + "\" must be a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    throw Error(std::string("\"") + name + "\" must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return d;
}

std::vector<PromptPair> pairs_field(const json& body, const char* name, bool required, const ServeLimits& limits) {
  const json* v = field(body, name);
  if (!v) {
    if (required) throw Error(std::string("the request has no \"") + name + "\"");
    return {};
  }
  if (!v->is_array()) throw Error(std::string("\"") + name + "\" must be a list of pairs");
  if (v->size() > limits.max_pairs)
    throw Error(std::string("\"") + name + "\" has " + std::to_string(v->size()) + " pairs; the server takes at most " +
                std::to_string(limits.max_pairs));
  if (required && v->empty()) throw Error(std::string("\"") + name + "\" is empty: give at least one pair");
  std::vector<PromptPair> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& p = (*v)[i];
    const std::string where = std::string(name) + " " + std::to_string(i + 1);
    if (!p.is_object()) throw Error(where + " must be an object with prompt1 and prompt2");
    PromptPair pair;
    pair.prompt1 = string_field(p, "prompt1", true);
    pair.prompt2 = string_field(p, "prompt2", true);
    pair.category = string_field(p, "category", false);
    if (pair.prompt1.empty() || pair.prompt2.empty()) throw Error(where + " has an empty prompt");
    if (pair.prompt1.size() > limits.max_prompt_bytes || pair.prompt2.size() > limits.max_prompt_bytes ||
        pair.category.size() > 100)
      throw Error(where + " is longer than the server takes (" + std::to_string(limits.max_prompt_bytes) +
                  " bytes a prompt)");
    out.push_back(std::move(pair));
  }
  return out;
}

}  // namespace

json parse_request_body(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error("the request body is not a JSON object");
  return j;
}

AnalyzeRequest parse_analyze_request(const json& body, const ServeLimits& limits) {
  AnalyzeRequest r;
  r.model = string_field(body, "model", true);
  r.pairs = pairs_field(body, "pairs", true, limits);
  r.fast = bool_field(body, "fast", false);
  r.plot_pairs = static_cast<int64_t>(number_field(body, "plot_pairs", 4, 0, 16));
  return r;
}

FairPruneRequest parse_fair_prune_request(const json& body, const ServeLimits& limits) {
  FairPruneRequest r;
  r.model = string_field(body, "model", true);
  r.pairs = pairs_field(body, "pairs", true, limits);
  r.held_out_pairs = pairs_field(body, "held_out_pairs", false, limits);
  r.plan.method = fairness_method_from_name(string_field(body, "method", false, "hybrid"));
  r.plan.pruning_percentage = number_field(body, "pruning_percentage", 10, 0, 99);
  r.plan.bias_weight = number_field(body, "bias_weight", 0.5, 0, 1);
  r.mode = prune_mode_from_name(string_field(body, "mode", false, "remove"));
  if (const json* layers = field(body, "layers")) {
    if (!layers->is_array() || layers->size() > 1024) throw Error("\"layers\" must be a list of layer numbers");
    for (const json& l : *layers) {
      if (!l.is_number_integer() || l.get<int64_t>() < 0 || l.get<int64_t>() > 100000)
        throw Error("\"layers\" must be a list of layer numbers");
      r.plan.layer_indices.push_back(static_cast<int>(l.get<int64_t>()));
    }
  }
  r.generate = bool_field(body, "generate", true);
  r.fast = bool_field(body, "fast", false);
  return r;
}

CompareRequest parse_compare_request(const json& body, const ServeLimits& limits) {
  CompareRequest r;
  r.model_a = string_field(body, "model_a", true);
  r.model_b = string_field(body, "model_b", true);
  r.pairs = pairs_field(body, "pairs", true, limits);
  r.fast = bool_field(body, "fast", false);
  return r;
}

std::string checked_output_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 100 && name[0] != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_');
  if (!ok)
    throw Error("a saved model's name takes letters, digits, '.', '-' and '_' (not starting with '.'), at most 100 characters");
  return name;
}

}  // namespace optipfair
