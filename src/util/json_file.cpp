#include "util/json_file.h"

#include <fstream>

#include "util/error.h"
#include "util/text_file.h"

namespace optipfair {

namespace fs = std::filesystem;

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw Error(path.string() + " is not valid JSON");
  }
}

void write_json_file(const fs::path& path, const nlohmann::ordered_json& value, int indent) {
  write_text_file(path, value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace optipfair
