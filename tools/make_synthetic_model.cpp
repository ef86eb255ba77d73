// Writes a model with random weights in the shape of a real checkpoint, for tests and benchmarks:
//   make_synthetic_model --preset llama-3.2-1b --dtype bf16 --seed 1 --layers 4 --output DIR
// With --tokenizer, the model carries a real vocabulary: copied beside an HF folder, written into a
// GGUF file's tokenizer.* keys (so llama.cpp and llama-bench open the file as it is).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "io/model_formats.h"
#include "model/synthetic.h"
#include "tokenizer/gguf_vocab_export.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

int main(int argc, char** argv) {
  using namespace optipfair;
  CLI::App app{"Write a random-weight model with the shape of a real checkpoint"};
  std::string preset, dtype_name_arg = "bf16", output, format = "hf", tokenizer;
  uint64_t seed = 1;
  int64_t layers = 0;
  bool overwrite = false;
  std::string presets;
  for (const auto& p : synthetic_presets()) presets += (presets.empty() ? "" : ", ") + p;
  app.add_option("--preset", preset, "shape to copy: " + presets)->required();
  app.add_option("--dtype", dtype_name_arg,
                 "f32, f16 or bf16; with --format gguf also q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k and the "
                 "mixtures q4_k_m, q5_k_m (llama.cpp's choice of Q6_K tensors)")
      ->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--layers", layers, "keep only the first N layers (0 = all)")->capture_default_str();
  app.add_option("--output", output, "HF folder (--format hf) or .gguf file (--format gguf)")->required();
  app.add_option("--format", format, "hf or gguf")->check(CLI::IsMember({"hf", "gguf"}))->capture_default_str();
  app.add_option("--tokenizer", tokenizer,
                 "a model folder or tokenizer file whose vocabulary the model gets (at most the preset's vocab_size ids); "
                 "without one a GGUF gets byte tokens, enough for llama.cpp to run token ids")
      ->check(CLI::ExistingPath);
  app.add_flag("--overwrite", overwrite, "replace an existing output");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto start = std::chrono::steady_clock::now();
    const SyntheticWeights weights = synthetic_weights_from_name(dtype_name_arg);
    const DType dtype = weights.dtype;
    if (dtype_is_quantized(dtype) && format != "gguf")
      throw Error("quantised weights (" + dtype_name_arg + ") are written as GGUF only: add --format gguf");
    Model model = make_synthetic_model(preset, weights, seed, layers);
    const double generated = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    SaveOptions options;
    options.overwrite = overwrite;
    if (!tokenizer.empty()) {
      const std::filesystem::path source = std::filesystem::absolute(tokenizer);
      const int64_t ids = load_tokenizer(source)->vocab_size();
      if (ids > model.config.vocab_size)
        throw Error("the tokenizer " + tokenizer + " has " + std::to_string(ids) + " ids, more than the " +
                    std::to_string(model.config.vocab_size) + " embedding rows of the preset " + preset);
      if (format == "gguf") options.gguf_metadata = gguf_vocab_metadata(source, model.config.vocab_size);
      // An HF folder gets the tokenizer files of the folder the tokenizer is in.
      else model.source = std::filesystem::is_directory(source) ? source : source.parent_path();
    } else if (format == "gguf") {
      // Without a tokenizer, byte tokens: llama.cpp refuses a GGUF without a vocabulary.
      const ModelConfig& c = model.config;
      options.gguf_metadata =
          gguf_byte_vocab_metadata(c.vocab_size, c.bos_token_id, c.eos_token_ids.empty() ? -1 : c.eos_token_ids.front());
    }
    if (format == "gguf") {
      const auto parent = std::filesystem::absolute(output).parent_path();
      std::filesystem::create_directories(parent);
      save_gguf_model(model, output, options);
    }
    else save_hf_model(model, output, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "wrote %s (%s, %s, %lld layers): weights made in %.1f s, written in %.1f s\n",
                 output.c_str(), preset.c_str(), dtype_name_arg.c_str(), static_cast<long long>(model.layers.size()),
                 generated, seconds - generated);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
