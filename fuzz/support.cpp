#include "support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <vector>

namespace optipfair::fuzz {

std::filesystem::path fresh_dir() {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("optipfair-fuzz-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path write_input(const uint8_t* data, size_t size, const std::string& name) {
  const auto path = fresh_dir() / name;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) fail("cannot write the fuzz input to the temp folder");
  return path;
}

void note(const Error& e) {
  static const bool verbose = std::getenv("OPTIPFAIR_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "Error: %s\n", e.what());
}

void fail(const char* what) {
  std::fprintf(stderr, "optipfair fuzz check failed: %s\n", what);
  std::abort();
}

void touch_tensor(const Tensor& t, const uint8_t* begin, const uint8_t* end) {
  if (!t.present()) return;
  // The sink is volatile so that the reads are not optimised away.
  static volatile uint8_t sink = 0;
  const size_t row_bytes = dtype_bytes(t.dtype, t.cols());
  for (int64_t r = 0; r < t.rows(); ++r) {
    const uint8_t* row = t.row_data(r);
    if (begin != nullptr && (row < begin || row > end || row_bytes > static_cast<size_t>(end - row)))
      fail("a tensor row lies outside its file");
    uint8_t acc = 0;
    for (size_t i = 0; i < row_bytes; ++i) acc ^= row[i];
    sink = sink ^ acc;
  }
}

void touch_model(const Model& model) {
  touch_tensor(model.tok_embeddings);
  touch_tensor(model.final_norm);
  touch_tensor(model.lm_head);
  for (const auto& l : model.layers) {
    for (const Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.bq, &l.bk, &l.bv, &l.q_norm, &l.k_norm,
                            &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down})
      touch_tensor(*t);
  }
}

void exercise_tokenizer(const Tokenizer& tok, std::string_view sample) {
  const int64_t v = tok.vocab_size();
  if (v < 0) fail("negative vocabulary size");
  const auto check_ids = [&](const std::vector<int32_t>& ids) {
    for (int32_t id : ids)
      if (id < 0 || id >= v) fail("encode returned an id outside the vocabulary");
  };
  for (int32_t id : {int32_t{0}, static_cast<int32_t>(v - 1), tok.bos_id(), tok.eos_id(), tok.pad_id()}) {
    if (id < 0 || id >= v) continue;
    (void)tok.token_text(id);
  }
  // Out-of-range ids must be an Error for token_text and skipped by decode.
  for (int64_t id : {int64_t{-1}, v}) {
    if (id > INT32_MAX) continue;
    try {
      (void)tok.token_text(static_cast<int32_t>(id));
      fail("token_text accepted an id outside the vocabulary");
    } catch (const Error&) {
    }
  }
  const std::vector<int32_t> edge = {0, static_cast<int32_t>(v > 0 ? v - 1 : 0), -7, INT32_MAX};
  (void)tok.decode(edge, false);
  (void)tok.decode(edge, true);
  // A bounded slice of the input as text: long texts only slow the run down.
  for (std::string_view text : {std::string_view("Hello world, <s> the\n cat é 日本"), sample.substr(0, 256)}) {
    const auto ids = tok.encode(text);
    check_ids(ids);
    check_ids(tok.encode(text, EncodeOptions{false, false}));
    (void)tok.decode(ids, true);
  }
}

}  // namespace optipfair::fuzz
