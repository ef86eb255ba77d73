// Prompt-pair files: JSONL or CSV (the first byte picks the extension, which picks the reader).
#include "bias/prompt_pairs.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace optipfair;
  if (size == 0) return 0;
  const char* name = data[0] % 2 == 0 ? "pairs.jsonl" : "pairs.csv";
  OPTIPFAIR_FUZZ_BODY({
    const auto pairs = load_prompt_pairs(fuzz::write_input(data + 1, size - 1, name));
    volatile size_t sink = 0;
    for (const auto& p : pairs) sink = sink + p.prompt1.size() + p.prompt2.size() + p.category.size();
    (void)sink;
  })
}
