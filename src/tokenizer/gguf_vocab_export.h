// The vocabulary keys of a GGUF file (tokenizer.ggml.*), built for the model a GGUF is saved from,
// so that llama.cpp and ollama can run and tokenise a pruned model. Token types follow llama.cpp:
// 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
//
//   - a GGUF source: its tokenizer.* keys, copied;
//   - tokenizer.model (SentencePiece): model "llama", pieces, scores and types as the library
//     reports them (what llama.cpp's converter writes);
//   - a byte-level BPE tokenizer.json (Llama-3, SmolLM2, Qwen2): model "gpt2", the merges, and the
//     pre-tokenizer by the name llama.cpp gives it (llama-bpe, qwen2, smollm, gpt-2);
//   - a SentencePiece-style BPE tokenizer.json (byte_fallback, no tokenizer.model beside it): model
//     "llama" with each piece scored by the rank of the merge that makes it, so that llama.cpp's
//     highest-score-first merging follows the BPE merge order.
#pragma once
#include <cstdint>
#include <filesystem>

#include "io/gguf_writer.h"

namespace optipfair {

// `source` is the model's folder or file; vocab_size the model's embedding rows (ids the
// tokenizer lacks are written as "[PAD<id>]", type unused). Throws Error saying why when the
// vocabulary cannot be written in a form llama.cpp reads.
GgufMetadata gguf_vocab_metadata(const std::filesystem::path& source, int64_t vocab_size);

// A stand-in vocabulary for a model that has none (a synthetic one): the 256 byte tokens
// "<0x00>".."<0xFF>" (model "llama", no space prefix), the other ids "[PAD<id>]", so that
// llama.cpp loads the file and runs token ids given to it. bos/eos: the config's ids (-1: none).
GgufMetadata gguf_byte_vocab_metadata(int64_t vocab_size, int64_t bos_id, int64_t eos_id);

}  // namespace optipfair
