// Reading a JSON file with the errors a user can act on: which file, and whether it is missing or
// not JSON.
#pragma once
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace optipfair {

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw Error(path.string() + " is not valid JSON");
  }
}

}  // namespace optipfair
