// Forward-pass throughput: prompt processing and token generation tokens/s, load time and peak RSS.
//
//   bench_forward --preset smollm2-135m --dtype bf16 --threads 2 [--layers N] [--prompt 128] [--gen 32]
//   bench_forward --model-path M ...
//
// With --preset, a synthetic model of that shape is written once (as a Hugging Face folder under
// --cache-dir) and then loaded from disk, so the timing includes the memory-mapped path users get.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include <CLI/CLI.hpp>

#include "bench_support.h"
#include "io/load_model.h"
#include "kernels/matmul.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/synthetic.h"

using namespace optipfair;
using bench::peak_rss_mib;
using bench::seconds_since;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"optipfair forward-pass benchmark"};
  std::string preset = "smollm2-135m", model_path, dtype_name_arg = "bf16", cache_dir = "build/bench-models";
  int threads = 2, prompt = 128, gen = 32, layers = 0, reps = 3;
  bool exact = false, capture_all = false;
  app.add_option("--preset", preset, "synthetic model shape");
  app.add_option("--model-path", model_path, "benchmark this model instead of a synthetic one");
  app.add_option("--dtype", dtype_name_arg, "synthetic weights type: bf16, f16, f32");
  app.add_option("--layers", layers, "truncate the synthetic model to N layers (0: all)");
  app.add_option("--threads", threads);
  app.add_option("--prompt", prompt, "prompt tokens");
  app.add_option("--gen", gen, "generated tokens");
  app.add_option("--reps", reps, "repetitions (best is reported)");
  app.add_option("--cache-dir", cache_dir, "where synthetic models are written");
  app.add_flag("--exact", exact, "float32 activations in every matrix product");
  app.add_flag("--capture", capture_all, "also capture all six components of every layer during the prompt");
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);
  const Precision precision = exact ? Precision::Exact : Precision::Fast;

  if (model_path.empty()) {
    model_path = bench::synthetic_model_dir(cache_dir, preset, dtype_name_arg, layers).string();
  }

  auto t0 = std::chrono::steady_clock::now();
  const Model model = load_model(model_path);
  const double load_s = seconds_since(t0);
  const ModelConfig& c = model.config;

  std::mt19937 rng(7);
  std::vector<int32_t> tokens(static_cast<size_t>(prompt));
  for (auto& t : tokens) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(c.vocab_size));

  double best_pp = 1e30, best_tg = 1e30;
  for (int r = 0; r < reps; ++r) {
    KVCache cache(c, prompt + gen);
    SequenceInput in{tokens, &cache};
    ActivationCapture capture(parse_layer_selection("all", c.num_hidden_layers),
                              std::vector<Component>(kAllComponents.begin(), kAllComponents.end()));
    t0 = std::chrono::steady_clock::now();
    std::vector<float> logits = forward(model, std::span<const SequenceInput>(&in, 1), LogitsMode::Last,
                                        capture_all ? &capture : nullptr, precision);
    best_pp = std::min(best_pp, seconds_since(t0));
    if (capture_all && r == 0) {
      size_t floats = 0, keys = 0;
      for (int l : capture.layers())
        for (Component comp : kAllComponents) {
          floats += capture.get(0, l, comp).data.size();
          ++keys;
        }
      std::printf("captured         %zu activations, %.1f MiB\n", keys, static_cast<double>(floats) * 4 / (1 << 20));
    }
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < gen; ++i) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      SequenceInput step{std::span<const int32_t>(&next, 1), &cache};
      logits = forward(model, std::span<const SequenceInput>(&step, 1), LogitsMode::Last, nullptr, precision);
    }
    best_tg = std::min(best_tg, seconds_since(t0));
  }
  std::printf("model            %s (%s, %lld layers, hidden %lld)\n", model_path.c_str(),
              dtype_name(model.layers.front().w_gate.dtype), (long long)c.num_hidden_layers, (long long)c.hidden_size);
  std::printf("threads          %d%s\n", threads, exact ? " (exact float32 activations)" : "");
  std::printf("load             %.3f s\n", load_s);
  std::printf("prompt (%4d)    %.1f tok/s\n", prompt, prompt / best_pp);
  std::printf("generate (%4d)  %.2f tok/s\n", gen, gen / best_tg);
  std::printf("peak RSS         %.1f MiB\n", peak_rss_mib());
  return 0;
}
