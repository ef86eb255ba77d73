#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "util/error.h"

namespace optipfair {

namespace fs = std::filesystem;

Tokenizer::~Tokenizer() = default;

bool Tokenizer::is_eos(int32_t id) const { return std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end(); }

namespace {

bool is_llama2c_tokenizer_name(const fs::path& p) {
  const std::string name = p.filename().string();
  return p.extension() == ".bin" && (name == "tokenizer.bin" || name.rfind("tok", 0) == 0);
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& model_path) {
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) {
    if (fs::exists(model_path / "tokenizer.json")) return load_tokenizer_json(model_path / "tokenizer.json");
    if (fs::exists(model_path / "tokenizer.model")) return load_tokenizer_sentencepiece(model_path / "tokenizer.model");
    throw Error("no tokenizer found in " + model_path.string() + " (looked for tokenizer.json and tokenizer.model)");
  }
  if (!fs::exists(model_path, ec)) throw Error("cannot find a tokenizer: " + model_path.string() + " does not exist");
  const std::string ext = model_path.extension().string();
  if (model_path.filename() == "tokenizer.json" || (ext == ".json" && model_path.filename().string().find("tokenizer") != std::string::npos))
    return load_tokenizer_json(model_path);
  if (ext == ".model") return load_tokenizer_sentencepiece(model_path);
  if (ext == ".gguf") return load_tokenizer_gguf(model_path);
  if (is_llama2c_tokenizer_name(model_path)) return load_tokenizer_llama2c(model_path);
  if (ext == ".bin") {
    // A llama2.c checkpoint carries no vocabulary: its tokenizer lies beside it.
    const fs::path dir = model_path.parent_path();
    std::vector<fs::path> candidates = {dir / "tokenizer.bin"};
    for (const auto& entry : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec))
      if (is_llama2c_tokenizer_name(entry.path()) && entry.path().filename() != "tokenizer.bin") candidates.push_back(entry.path());
    for (const auto& c : candidates)
      if (fs::exists(c)) return load_tokenizer_llama2c(c);
    if (fs::exists(dir / "tokenizer.json")) return load_tokenizer_json(dir / "tokenizer.json");
    throw Error("no tokenizer found beside the llama2.c checkpoint " + model_path.string() +
                " (looked for tokenizer.bin, tok*.bin and tokenizer.json in " + dir.string() + ")");
  }
  throw Error("cannot tell which tokenizer " + model_path.string() +
              " holds (expected a folder with tokenizer.json or tokenizer.model, a .gguf file, or a llama2.c .bin)");
}

std::string escape_visible(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace optipfair
