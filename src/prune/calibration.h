// Statistics gathered by running the model on calibration text: the activation norms the
// calibration-driven neuron score needs, and how much each decoder layer changes its input.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace optipfair {

// Token sequences (each starting with BOS when the tokenizer has one) cut from a text file:
// a .jsonl file contributes the "text" field of each line; another file is split into documents
// at "<|endoftext|>" when it has that marker, else read as one document. Documents are taken in
// order until `max_tokens` tokens are collected, each cut into sequences of at most `seq_len`.
// Throws Error when the file cannot be read or yields no token.
std::vector<std::vector<int32_t>> calibration_sequences(const Tokenizer& tokenizer, const std::filesystem::path& file,
                                                        int64_t max_tokens, int64_t seq_len);

// Per layer and neuron: sum over sequences of the L2 norm, over that sequence's tokens, of
// down_proj's input silu(gate) * up. Summing per sequence mirrors optipfair's hooks, which add one
// norm per calibration batch.
std::vector<std::vector<float>> down_input_norms(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                                 bool show_progress = true);

// Per decoder layer: 1 - cos(h_in, h_out) between the residual stream entering and leaving the
// layer, per token, averaged over every calibration token. Small values mark layers that change
// little, the first candidates for depth pruning. The residual stream is rebuilt from the
// embeddings plus the captured attention and MLP outputs (exactly the additions forward() does).
std::vector<double> layer_importance(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                     bool show_progress = true);

}  // namespace optipfair
