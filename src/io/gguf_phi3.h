// The phi3 GGUF architecture (Phi-3, Phi-3.5, Phi-4-mini): what llama.cpp's converter writes and
// reads beyond the Llama-style keys, beside gguf_model.cpp.
#pragma once
#include <deque>
#include <vector>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "model/config.h"

namespace optipfair {

// LongRope (rope_factors_short/long.weight, rope.scaling.attn_factor,
// rope.scaling.original_context_length) and the sliding window, into c (sizes already read).
void gguf_read_phi3_config(const GgufFile& g, ModelConfig& c);
// The same keys and rope factor tensors for writing; `keep` holds the factors until written.
void gguf_write_phi3_keys(GgufWriter& w, const ModelConfig& c, std::deque<std::vector<float>>& keep);

}  // namespace optipfair
