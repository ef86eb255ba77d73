// What every fuzz target shares: the input as a file (our loaders take paths), and checks that USE
// what a loader returned, so a load that succeeds but points outside its file is caught too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "model/model.h"
#include "model/tensor.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace optipfair::fuzz {

// A folder of this process's own under the temp folder, emptied on each call, so that loaders
// that look beside a file (tokenizer_config.json next to tokenizer.json) see only what we wrote.
std::filesystem::path fresh_dir();

// Writes the input as `name` in a fresh folder and returns its path.
std::filesystem::path write_input(const uint8_t* data, size_t size, const std::string& name);

// Reads every byte of the tensor's rows; when [begin, end) is given, first aborts if a row lies
// outside it (a loader's bounds check that failed silently).
void touch_tensor(const Tensor& t, const uint8_t* begin = nullptr, const uint8_t* end = nullptr);
void touch_model(const Model& model);

// Encodes, decodes and asks for the text of edge ids; aborts on an id outside the vocabulary.
void exercise_tokenizer(const Tokenizer& tok, std::string_view sample);

// Prints the Error when OPTIPFAIR_FUZZ_VERBOSE is set: to see why a seed or a reproduced input was
// refused (a seed that no longer loads stops the fuzzer from reaching past the loader).
void note(const Error& e);

// Aborts with a message: a check of ours failed (not an Error: that would be "handled").
[[noreturn]] void fail(const char* what);

}  // namespace optipfair::fuzz

// Runs a loader and what uses its result; an optipfair::Error is an accepted refusal, anything
// else escapes to libFuzzer, which reports it as a crash.
#define OPTIPFAIR_FUZZ_BODY(...)            \
  try {                                     \
    __VA_ARGS__                             \
  } catch (const ::optipfair::Error& e) {   \
    ::optipfair::fuzz::note(e);             \
  }                                         \
  return 0;
