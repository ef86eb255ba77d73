// GGUF: the file (metadata and tensor descriptors), the model built from it and its vocabulary.
#include "support.h"
#include "io/gguf_file.h"
#include "io/model_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  const auto path = fuzz::write_input(data, size, "model.gguf");
  try {
    const GgufFile g = GgufFile::open(path);
    const uint8_t* begin = g.mapping()->data();
    const uint8_t* end = begin + g.mapping()->size();
    for (const auto& info : g.tensors()) {
      if (info.data == nullptr) fuzz::fail("a GGUF tensor has no data");
      const auto* p = static_cast<const uint8_t*>(info.data);
      if (p < begin || p > end || info.nbytes > static_cast<size_t>(end - p)) fuzz::fail("a GGUF tensor lies outside its file");
      static volatile uint8_t sink = 0;
      for (size_t i = 0; i < info.nbytes; i += 64) sink = sink ^ p[i];
    }
    // Every typed getter on every key: a wrong kind must be an Error, never a bad access.
    for (const auto& [key, value] : g.metadata()) {
      for (int k = 0; k < 7; ++k) {
        try {
          switch (k) {
            case 0: (void)g.get_string(key); break;
            case 1: (void)g.get_int(key); break;
            case 2: (void)g.get_float(key); break;
            case 3: (void)g.get_bool(key); break;
            case 4: (void)g.get_string_array(key); break;
            case 5: (void)g.get_int_array(key); break;
            default: (void)g.get_float_array(key); break;
          }
        } catch (const Error&) {
        }
      }
    }
  } catch (const Error& e) {
    fuzz::note(e);
    return 0;  // the model and vocabulary loaders open the same file: no need to go on
  }
  try {
    fuzz::touch_model(load_gguf_model(path));
  } catch (const Error& e) {
    fuzz::note(e);
  }
  try {
    fuzz::exercise_tokenizer(*load_tokenizer_gguf(path), std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const Error& e) {
    fuzz::note(e);
  }
  return 0;
}
