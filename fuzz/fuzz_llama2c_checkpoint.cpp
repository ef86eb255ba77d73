// llama2.c checkpoint (.bin): the header's seven int32 fields, then float32 weights.
#include "support.h"
#include "io/model_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  OPTIPFAIR_FUZZ_BODY({ fuzz::touch_model(load_llama2c_model(fuzz::write_input(data, size, "model.bin"))); })
}
