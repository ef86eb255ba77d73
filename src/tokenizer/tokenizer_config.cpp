#include "tokenizer/tokenizer_config.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace optipfair {

namespace {

using nlohmann::json;

std::optional<json> read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path.string() + " is not valid JSON: " + e.what());
  }
}

// Special tokens appear as plain strings or as {"content": ...} objects.
std::string token_name(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return {};
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::filesystem::path& folder) {
  TokenizerConfig config;
  if (auto tc = read_json(folder / "tokenizer_config.json"); tc && tc->is_object()) {
    const json& j = *tc;
    if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) config.add_bos_token = j["add_bos_token"].get<bool>();
    if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) config.add_eos_token = j["add_eos_token"].get<bool>();
    config.bos_token = token_name(j, "bos_token");
    config.eos_token = token_name(j, "eos_token");
    config.pad_token = token_name(j, "pad_token");
    config.unk_token = token_name(j, "unk_token");
    if (auto it = j.find("chat_template"); it != j.end()) {
      if (it->is_string()) {
        config.chat_template = it->get<std::string>();
      } else if (it->is_array()) {
        // Several named templates: transformers uses the one named "default".
        for (const auto& entry : *it)
          if (entry.value("name", "") == "default" && entry.contains("template") && entry["template"].is_string())
            config.chat_template = entry["template"].get<std::string>();
      }
    }
  }
  if (config.chat_template.empty()) {
    std::ifstream in(folder / "chat_template.jinja");
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      config.chat_template = ss.str();
    }
  }
  if (auto gc = read_json(folder / "generation_config.json"); gc && gc->is_object()) {
    auto it = gc->find("eos_token_id");
    if (it != gc->end()) {
      if (it->is_number_integer()) config.generation_eos_ids.push_back(it->get<int32_t>());
      if (it->is_array())
        for (const auto& v : *it)
          if (v.is_number_integer()) config.generation_eos_ids.push_back(v.get<int32_t>());
    }
  }
  return config;
}

}  // namespace optipfair
