// The gemma, gemma2 and gemma3 GGUF architectures: what llama.cpp's converter writes for them and
// how it reads them back, beside the Llama-style archs of gguf_model.cpp.
#pragma once
#include <deque>
#include <string>
#include <vector>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "model/model.h"

namespace optipfair {

bool gguf_arch_is_gemma(const std::string& arch);
// "gemma", "gemma2", "gemma3" for a Gemma config.
std::string gguf_gemma_arch(const ModelConfig& c);

// Reads the family's keys into c (its sizes already read): activation, layer kinds and window,
// soft-caps, the sliding layers' RoPE base, the query scale. llama.cpp's rules fill what a file
// leaves out, so a file it runs is read as it runs it.
void gguf_read_gemma_config(const GgufFile& g, const std::string& arch, ModelConfig& c);
void gguf_write_gemma_keys(GgufWriter& w, const std::string& arch, const ModelConfig& c);

// llama.cpp's converter stores Gemma norms as the factors (1 + w); the model holds transformers'
// w. The first makes an owned copy of a stored norm less 1; the second the factors to write
// (kept alive in `keep` until the writer is done).
Tensor gguf_gemma_norm_from_file(Model& m, const Tensor& stored);
const float* gguf_gemma_norm_to_file(const Tensor& t, std::deque<std::vector<float>>& keep);

}  // namespace optipfair
