#include "generate/generation_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "util/error.h"
#include "util/json_number.h"

namespace optipfair {

void generation_config_validate(const GenerationConfig& c) {
  if (c.num_beams < 1)
    throw Error("num_beams must be at least 1 (got " + std::to_string(c.num_beams) + ")");
  if (c.max_new_tokens < 0 && c.max_length < 1)
    throw Error("max_length must be at least 1 (got " + std::to_string(c.max_length) + ")");
  if (c.max_new_tokens == 0) throw Error("max_new_tokens must be at least 1");
  if (c.num_return_sequences < 1)
    throw Error("num_return_sequences must be at least 1 (got " + std::to_string(c.num_return_sequences) + ")");
  if (c.num_beams > 1 && c.num_return_sequences > c.num_beams)
    throw Error("num_return_sequences (" + std::to_string(c.num_return_sequences) +
                ") cannot exceed num_beams (" + std::to_string(c.num_beams) + ")");
  if (c.num_beams == 1 && !c.do_sample && c.num_return_sequences > 1)
    throw Error("greedy search returns one sequence; use num_beams or do_sample for num_return_sequences > 1");
  if (c.num_beams > 1 && c.do_sample)
    throw Error("beam sampling (do_sample with num_beams > 1) is not supported; use one or the other");
  if (c.do_sample && !(c.temperature > 0.0 && std::isfinite(c.temperature)))
    throw Error("temperature must be a positive number when sampling (got " + std::to_string(c.temperature) + ")");
  if (c.top_k < 0) throw Error("top_k must be 0 (off) or positive (got " + std::to_string(c.top_k) + ")");
  if (!(c.top_p >= 0.0 && c.top_p <= 1.0))
    throw Error("top_p must lie in [0, 1] (got " + std::to_string(c.top_p) + ")");
  if (!(c.repetition_penalty > 0.0 && std::isfinite(c.repetition_penalty)))
    throw Error("repetition_penalty must be a positive number (got " + std::to_string(c.repetition_penalty) + ")");
  if (c.no_repeat_ngram_size < 0)
    throw Error("no_repeat_ngram_size must be 0 (off) or positive (got " + std::to_string(c.no_repeat_ngram_size) + ")");
  if (!std::isfinite(c.length_penalty)) throw Error("length_penalty must be a finite number");
}

int64_t generation_max_length(const GenerationConfig& c, int64_t prompt_length) {
  if (c.max_new_tokens >= 0) return prompt_length + c.max_new_tokens;
  if (c.max_length <= prompt_length)
    throw Error("max_length " + std::to_string(c.max_length) + " leaves no room after the prompt's " +
                std::to_string(prompt_length) + " tokens; raise max_length or use max_new_tokens");
  return c.max_length;
}

EarlyStopping early_stopping_from_string(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (t == "true" || t == "1") return EarlyStopping::True;
  if (t == "false" || t == "0") return EarlyStopping::False;
  if (t == "never") return EarlyStopping::Never;
  throw Error("early_stopping must be true, false or never (got \"" + std::string(text) + "\")");
}

std::string early_stopping_to_string(EarlyStopping value) {
  switch (value) {
    case EarlyStopping::True: return "true";
    case EarlyStopping::Never: return "never";
    default: return "false";
  }
}

namespace {

// A token id as int32: nlohmann's get<int32_t> would silently wrap a larger one.
int32_t token_id(const nlohmann::json& v, const char* key) {
  if (v.is_number_unsigned() ? v.get<uint64_t>() > INT32_MAX
                             : v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX)
    throw Error(std::string("generation_config.json: ") + key + " " + v.dump() + " is not a token id");
  return static_cast<int32_t>(v.get<int64_t>());
}

std::vector<int32_t> ids_from_json(const nlohmann::json& v) {
  std::vector<int32_t> ids;
  if (v.is_number_integer()) ids.push_back(token_id(v, "eos_token_id"));
  else if (v.is_array())
    for (const auto& e : v)
      if (e.is_number_integer()) ids.push_back(token_id(e, "eos_token_id"));
  return ids;
}

// An integer field from any JSON number that holds one exactly; anything else names the key.
int64_t integer_field(const nlohmann::json& v, const char* key) {
  if (auto i = json_exact_int64(v)) return *i;
  throw Error(std::string("generation_config.json: ") + key + " = " + v.dump() + " is not an integer in range");
}

}  // namespace

void generation_config_update_from_json(GenerationConfig& c, const nlohmann::json& j) {
  if (!j.is_object()) throw Error("generation_config.json is not a JSON object");
  auto num = [&](const char* key, auto& field) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return;
    if constexpr (std::is_integral_v<std::decay_t<decltype(field)>>) field = integer_field(*it, key);
    else field = it->get<std::decay_t<decltype(field)>>();
  };
  num("max_length", c.max_length);
  num("max_new_tokens", c.max_new_tokens);
  num("num_beams", c.num_beams);
  num("temperature", c.temperature);
  num("top_k", c.top_k);
  num("top_p", c.top_p);
  num("repetition_penalty", c.repetition_penalty);
  num("no_repeat_ngram_size", c.no_repeat_ngram_size);
  num("length_penalty", c.length_penalty);
  num("num_return_sequences", c.num_return_sequences);
  if (auto it = j.find("do_sample"); it != j.end() && it->is_boolean()) c.do_sample = it->get<bool>();
  if (auto it = j.find("early_stopping"); it != j.end()) {
    if (it->is_boolean()) c.early_stopping = it->get<bool>() ? EarlyStopping::True : EarlyStopping::False;
    else if (it->is_string()) c.early_stopping = early_stopping_from_string(it->get<std::string>());
  }
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) c.eos_token_ids = ids_from_json(*it);
  if (auto it = j.find("pad_token_id"); it != j.end() && it->is_number_integer()) c.pad_token_id = token_id(*it, "pad_token_id");
}

nlohmann::json generation_config_to_json(const GenerationConfig& c) {
  nlohmann::json j;
  j["max_length"] = c.max_length;
  j["max_new_tokens"] = c.max_new_tokens >= 0 ? nlohmann::json(c.max_new_tokens) : nlohmann::json(nullptr);
  j["do_sample"] = c.do_sample;
  j["num_beams"] = c.num_beams;
  j["temperature"] = c.temperature;
  j["top_k"] = c.top_k;
  j["top_p"] = c.top_p;
  j["repetition_penalty"] = c.repetition_penalty;
  j["no_repeat_ngram_size"] = c.no_repeat_ngram_size;
  j["early_stopping"] = early_stopping_to_string(c.early_stopping);
  j["length_penalty"] = c.length_penalty;
  j["num_return_sequences"] = c.num_return_sequences;
  j["seed"] = c.seed;
  j["eos_token_id"] = c.eos_token_ids;
  return j;
}

}  // namespace optipfair
