// Writing a pruned model: Hugging Face folder or GGUF file, never over what it was loaded from.
#pragma once
#include <filesystem>
#include <string>

#include "io/model_formats.h"
#include "model/model.h"

namespace optipfair {

enum class OutputFormat { HuggingFace, Gguf };
// "hf" (also "safetensors") or "gguf"; throws Error otherwise.
OutputFormat output_format_from_name(const std::string& name);

// Refuses an output that is the model's source, holds it, or (for GGUF) is its file; then saves
// through save_hf_model / save_gguf_model, which write under a temporary name and rename at the
// end, so a failure leaves no complete-looking model behind. The input is never touched.
void save_pruned_model(const Model& model, const std::filesystem::path& output, OutputFormat format,
                       const SaveOptions& options = {});

}  // namespace optipfair
