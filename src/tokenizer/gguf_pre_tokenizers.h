// The pre-tokenizers of byte-level BPE vocabularies by the names llama.cpp gives them in
// tokenizer.ggml.pre, and the regexes each name stands for (applied in order, each splitting its
// matches off as separate pieces). Read by load_tokenizer_gguf, written by gguf_vocab_metadata.
#pragma once
#include <string>
#include <vector>

namespace optipfair {

struct GgufPreTokenizer {
  std::string name;                  // the name we write
  std::vector<std::string> aliases;  // other names llama.cpp files use for the same rules
  std::vector<std::string> regexes;
};

const std::vector<GgufPreTokenizer>& gguf_pre_tokenizers();

// The entry whose name or alias is `name` ("" and "default" are GPT-2's); nullptr when unknown.
const GgufPreTokenizer* find_gguf_pre_tokenizer(const std::string& name);

}  // namespace optipfair
