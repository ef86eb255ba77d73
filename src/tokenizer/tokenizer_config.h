// What transformers reads beside a tokenizer: tokenizer_config.json (BOS/EOS switches, special
// token names, chat template), generation_config.json (extra EOS ids), chat_template.jinja.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace optipfair {

struct TokenizerConfig {
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  std::string bos_token, eos_token, pad_token, unk_token;  // empty when not set
  std::string chat_template;
  std::vector<int32_t> generation_eos_ids;
};

// Reads whichever of those files exist in `folder`; throws Error naming a file that is not JSON.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& folder);

}  // namespace optipfair
