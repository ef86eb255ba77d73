// safetensors: the JSON header and the tensors it points at (SafetensorsFile::open validates both).
#include "support.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  OPTIPFAIR_FUZZ_BODY({
    const auto file = SafetensorsFile::open(fuzz::write_input(data, size, "model.safetensors"));
    const uint8_t* begin = file.mapping()->data();
    const uint8_t* end = begin + file.mapping()->size();
    for (const auto& [name, t] : file.tensors()) {
      fuzz::touch_tensor(t, begin, end);
      // get() refuses types the kernels cannot read; that refusal must be an Error too.
      try {
        fuzz::touch_tensor(file.get(name), begin, end);
      } catch (const Error&) {
      }
    }
    (void)file.metadata().dump();
  })
}
