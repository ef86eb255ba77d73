// Opening a model whatever its format: the one entry point commands use. It sits in io, above
// model, because it picks among the format loaders.
#pragma once
#include <string>

#include "model/model.h"

namespace optipfair {

struct LoadOptions {
  bool allow_download = true;  // a Hugging Face id missing from the cache may be fetched
};

// Opens any supported model: a Hugging Face folder, a Hugging Face model id (cache, then download
// when allowed), a .gguf file or a llama2.c .bin checkpoint. Throws Error with one clear sentence.
Model load_model(const std::string& path_or_id, const LoadOptions& options = {});

}  // namespace optipfair
