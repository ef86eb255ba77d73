// llama2.c tokenizer.bin: max_token_length, then (score, length, bytes) per token.
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  OPTIPFAIR_FUZZ_BODY({
    const auto tok = load_tokenizer_llama2c(fuzz::write_input(data, size, "tokenizer.bin"));
    fuzz::exercise_tokenizer(*tok, std::string_view(reinterpret_cast<const char*>(data), size));
  })
}
