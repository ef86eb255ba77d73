// config.json of a Hugging Face folder, read as load_hf_model reads it.
#include "support.h"
#include "io/model_formats.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  // Through the loader: it reads the file, parses the config, then (no weights here) refuses.
  try {
    const auto path = fuzz::write_input(data, size, "config.json");
    (void)load_hf_model(path.parent_path());
  } catch (const Error& e) {
    fuzz::note(e);
  }
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  OPTIPFAIR_FUZZ_BODY({
    const ModelConfig c = config_from_hf_json(j);
    // What the loader does next with a parsed config; then the sizes a forward pass allocates by.
    config_validate(c);
    if (c.hidden_size <= 0 || c.hidden_size > kMaxHiddenSize || c.vocab_size <= 0 || c.vocab_size > kMaxVocabSize ||
        c.num_hidden_layers <= 0 || c.num_hidden_layers > kMaxLayers || c.head_dim <= 0 || c.head_dim > kMaxHeadDim)
      fuzz::fail("a validated config has a size outside its limits");
    if (static_cast<int64_t>(c.intermediate_sizes.size()) != c.num_hidden_layers)
      fuzz::fail("a validated config has one intermediate size per layer missing");
    volatile int64_t sink = c.q_dim() + c.kv_dim() + c.vocab_size * c.hidden_size;
    (void)sink;
    (void)config_to_hf_json(c).dump();
  })
}
