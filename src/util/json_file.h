// Reading and writing JSON files with the errors a user can act on: which file, and whether it is
// missing or not JSON. Writes are atomic: a temporary beside the file, renamed when complete, so a
// crash never leaves half a file under the real name.
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>

namespace optipfair {

nlohmann::json read_json_file(const std::filesystem::path& path);

// `indent` spaces per level (the Python library writes its bias files with 4).
void write_json_file(const std::filesystem::path& path, const nlohmann::ordered_json& value, int indent = 2);

}  // namespace optipfair
