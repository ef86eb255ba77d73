#include "tokenizer/gguf_pre_tokenizers.h"

#include <algorithm>

namespace optipfair {

namespace {

const char* kGpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

}  // namespace

const std::vector<GgufPreTokenizer>& gguf_pre_tokenizers() {
  static const std::vector<GgufPreTokenizer> table = {
      {"llama-bpe", {"llama3", "llama-v3"}, {kLlama3Regex}},
      {"qwen2", {"deepseek-r1-qwen"}, {kQwen2Regex}},
      {"smollm", {}, {"\\p{N}", kGpt2Regex}},  // single digits, then GPT-2's rules
      {"gpt-2", {"gpt2", "default", ""}, {kGpt2Regex}},
  };
  return table;
}

const GgufPreTokenizer* find_gguf_pre_tokenizer(const std::string& name) {
  for (const GgufPreTokenizer& p : gguf_pre_tokenizers())
    if (p.name == name || std::find(p.aliases.begin(), p.aliases.end(), name) != p.aliases.end()) return &p;
  return nullptr;
}

}  // namespace optipfair
