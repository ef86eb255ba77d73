// Hugging Face tokenizer.json (alone in its folder, so no tokenizer_config.json is read).
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  OPTIPFAIR_FUZZ_BODY({
    const auto tok = load_tokenizer_json(fuzz::write_input(data, size, "tokenizer.json"));
    fuzz::exercise_tokenizer(*tok, std::string_view(reinterpret_cast<const char*>(data), size));
  })
}
