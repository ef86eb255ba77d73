// tokenizer_config.json, generation_config.json and chat_template.jinja as read beside a tokenizer;
// generation_config.json also as generation reads it. The first byte picks the file.
#include <fstream>

#include "support.h"
#include "generate/generation_config.h"
#include "tokenizer/tokenizer_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  if (size == 0) return 0;
  static const char* const kNames[] = {"tokenizer_config.json", "generation_config.json", "chat_template.jinja"};
  const std::string name = kNames[data[0] % 3];
  const auto path = fuzz::write_input(data + 1, size - 1, name);
  try {
    const TokenizerConfig c = read_tokenizer_config(path.parent_path());
    volatile size_t sink = c.bos_token.size() + c.eos_token.size() + c.pad_token.size() + c.unk_token.size() +
                           c.chat_template.size() + c.generation_eos_ids.size();
    (void)sink;
  } catch (const Error& e) {
    fuzz::note(e);
  }
  if (name != "generation_config.json") return 0;
  // As text_generation.cpp does: a parse failure is its Error, the update must throw nothing else.
  const auto j = nlohmann::json::parse(data + 1, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  OPTIPFAIR_FUZZ_BODY({
    GenerationConfig g;
    generation_config_update_from_json(g, j);
    generation_config_validate(g);
    (void)generation_max_length(g, 3);
    (void)generation_config_to_json(g).dump();
  })
}
