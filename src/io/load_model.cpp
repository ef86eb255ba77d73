#include "io/load_model.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/model_formats.h"
#include "util/error.h"

namespace optipfair {

namespace fs = std::filesystem;

namespace {

bool has_magic(const fs::path& p, const char* magic) {
  std::ifstream in(p, std::ios::binary);
  char buf[4] = {};
  in.read(buf, 4);
  return in.gcount() == 4 && std::memcmp(buf, magic, 4) == 0;
}

}  // namespace

Model load_model(const std::string& path_or_id, const LoadOptions& options) {
  const fs::path p(path_or_id);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "config.json")) return load_hf_model(p);
    throw Error(p.string() + " is a folder without config.json (not a Hugging Face model folder)");
  }
  if (fs::is_regular_file(p, ec)) {
    if (has_magic(p, "GGUF") || p.extension() == ".gguf") return load_gguf_model(p);
    if (p.extension() == ".safetensors")
      throw Error("point --model-path at the folder that holds " + p.filename().string() +
                  " and its config.json, not at the file");
    if (p.extension() == ".bin") return load_llama2c_model(p);
    throw Error(p.string() + " is not a model format optipfair reads (.gguf, llama2.c .bin, or a "
                "Hugging Face folder)");
  }
  if (looks_like_hf_model_id(path_or_id))
    return load_hf_model(resolve_hf_model_id(path_or_id, options.allow_download));
  throw Error("no model at '" + path_or_id + "': no such file or folder, and not a Hugging Face model id");
}

}  // namespace optipfair
