// SentencePiece tokenizer.model (a protobuf ModelProto, parsed by libsentencepiece).
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  OPTIPFAIR_FUZZ_BODY({
    const auto tok = load_tokenizer_sentencepiece(fuzz::write_input(data, size, "tokenizer.model"));
    fuzz::exercise_tokenizer(*tok, std::string_view(reinterpret_cast<const char*>(data), size));
  })
}
