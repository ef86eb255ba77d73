#include "prune/save_pruned.h"

#include <cctype>
#include <cstdio>

#include "tokenizer/gguf_vocab_export.h"
#include "util/error.h"
#include "util/paths.h"

namespace optipfair {

namespace fs = std::filesystem;

OutputFormat output_format_from_name(const std::string& name) {
  std::string l = name;
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "hf" || l == "safetensors" || l == "huggingface") return OutputFormat::HuggingFace;
  if (l == "gguf") return OutputFormat::Gguf;
  throw Error("unknown output format '" + name + "'; choose hf or gguf");
}

void save_pruned_model(const Model& model, const fs::path& output, OutputFormat format, const SaveOptions& options) {
  if (output.empty()) throw Error("no output path given");
  if (!model.source.empty() && path_same_or_inside(model.source, output))
    throw Error("refusing to write " + output.string() + ": it is, or holds, the model being pruned (" +
                model.source.string() + "); choose another output path");
  if (format == OutputFormat::HuggingFace) {
    save_hf_model(model, output, options);
    return;
  }
  SaveOptions o = options;
  if (o.gguf_metadata.empty() && !model.source.empty()) {
    // Without its vocabulary a GGUF file does not run in llama.cpp or ollama.
    try {
      o.gguf_metadata = gguf_vocab_metadata(model.source, model.config.vocab_size);
    } catch (const Error& e) {
      std::fprintf(stderr, "optipfair: warning: %s gets no vocabulary (llama.cpp will not load it): %s\n",
                   output.string().c_str(), e.what());
    }
  }
  save_gguf_model(model, output, o);
}

}  // namespace optipfair
