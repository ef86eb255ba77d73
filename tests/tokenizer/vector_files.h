// Reading the reference vectors in ../shared/tokenizers: JSON-lines rows and llama.cpp's .inp/.out pairs.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace optipfair::test {

struct VectorRow {
  std::string text;
  std::vector<int32_t> ids;                              // special-token text as plain text
  std::optional<std::vector<int32_t>> ids_parse_special;  // special tokens recognised
  std::optional<std::vector<int32_t>> ids_llama2c_run_c;  // llama2.c's run.c, where it differs
};

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<VectorRow> read_jsonl_vectors(const std::filesystem::path& path) {
  std::vector<VectorRow> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    VectorRow row;
    row.text = j.at("text").get<std::string>();
    row.ids = j.at("ids").get<std::vector<int32_t>>();
    if (j.contains("ids_parse_special")) row.ids_parse_special = j["ids_parse_special"].get<std::vector<int32_t>>();
    if (j.contains("ids_llama2c_run_c")) row.ids_llama2c_run_c = j["ids_llama2c_run_c"].get<std::vector<int32_t>>();
    rows.push_back(std::move(row));
  }
  return rows;
}

// llama.cpp's test files: inputs each followed by "\n__ggml_vocab_test__\n"; one line of ids per input.
inline std::vector<VectorRow> read_llamacpp_vectors(const std::filesystem::path& inp, const std::filesystem::path& out) {
  const std::string text = read_text_file(inp);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<VectorRow> rows;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(separator, pos)) != std::string::npos; pos = hit + separator.size())
    rows.push_back({text.substr(pos, hit - pos), {}, std::nullopt, std::nullopt});
  std::ifstream ids_in(out);
  size_t i = 0;
  for (std::string line; std::getline(ids_in, line) && i < rows.size(); ++i) {
    std::istringstream ls(line);
    for (int32_t id; ls >> id;) rows[i].ids.push_back(id);
  }
  rows.resize(i);
  return rows;
}

}  // namespace optipfair::test
