// Forward-pass throughput: prompt processing and token generation tokens/s, load time and peak RSS.
//
//   bench_forward --preset smollm2-135m --dtype bf16 --threads 2 [--layers N] [--prompt 128] [--gen 32]
//   bench_forward --model-path M ...
//   bench_forward --model-path M.gguf --llama-bench ../llama.cpp/build/bin/llama-bench ...
//
// Each repetition also reads every weight a generated token uses once, in the same split over the
// threads (the machine's read rate: generation's memory bound), and, with --llama-bench, runs
// llama.cpp's benchmark on the same GGUF with the same threads and token counts; the order of the
// tools alternates between repetitions, so a busy machine slows both alike. Figures are the best
// of the repetitions, with the median beside them.
//
// With --preset, a synthetic model of that shape is written once (as a Hugging Face folder under
// --cache-dir) and then loaded from disk, so the timing includes the memory-mapped path users get.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include <CLI/CLI.hpp>

#include "bench_limits.h"
#include "bench_peak.h"
#include "bench_support.h"
#include "io/load_model.h"
#include "kernels/matmul.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/panels.h"
#include "model/synthetic.h"

using namespace optipfair;
using bench::peak_rss_mib;
using bench::seconds_since;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"optipfair forward-pass benchmark"};
  std::string preset = "smollm2-135m", model_path, dtype_name_arg = "bf16", cache_dir = "build/bench-models";
  int threads = 2, prompt = 128, gen = 32, layers = 0, reps = 3;
  bool exact = false, capture_all = false, in_place = false;
  std::string llama_bench, isa_s;
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
  app.add_flag("--in-place", in_place, "multiply BF16 and block-type weights where they are stored instead of packing them into panels");
  app.add_flag("--capture", capture_all, "also capture all six components of every layer during the prompt");
  app.add_option("--llama-bench", llama_bench, "llama.cpp's llama-bench, run on the same GGUF in each repetition")
      ->check(CLI::ExistingFile);
  app.add_option("--isa", isa_s, "force a weaker instruction set: scalar, avx2, avx512 or avx512bf16")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512", "avx512bf16"}));
  CLI11_PARSE(app, argc, argv);
  bench::set_isa_by_name(isa_s);
  if (!llama_bench.empty() && fs::path(model_path).extension() != ".gguf") {
    std::fprintf(stderr, "--llama-bench needs --model-path FILE.gguf\n");
    return 2;
  }
  omp_set_num_threads(threads);
  const Precision precision = exact ? Precision::Exact : Precision::Fast;

  if (model_path.empty()) {
    model_path = bench::synthetic_model_dir(cache_dir, preset, dtype_name_arg, layers).string();
  }

  auto t0 = std::chrono::steady_clock::now();
  Model model = load_model(model_path);
  const double load_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const size_t panel_bytes = exact || in_place ? 0 : model_pack_panels(model);
  const double pack_s = seconds_since(t0);
  const ModelConfig& c = model.config;

  std::mt19937 rng(7);
  std::vector<int32_t> tokens(static_cast<size_t>(prompt));
  for (auto& t : tokens) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(c.vocab_size));

  const std::vector<WeightMatrix> mats = bench::token_matrices(model);
  double token_bytes = 0;
  for (const WeightMatrix& w : mats) token_bytes += bench::matrix_bytes(w);

  // The prompt's matrix products per token: every layer's projections, and the LM head once per
  // prompt (LogitsMode::Last, as llama-bench). Attention's own arithmetic is not counted.
  double prompt_flops = 0;
  for (const LayerWeights& l : model.layers)
    for (const Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      prompt_flops += 2.0 * static_cast<double>(t->matrix().rows) * static_cast<double>(t->matrix().cols);
  prompt_flops += 2.0 * static_cast<double>(model.lm_head.matrix().rows) *
                  static_cast<double>(model.lm_head.matrix().cols) / prompt;
  const bool bf16_dot = !exact && matmul_isa() == MatmulIsa::Avx512Bf16 && model.layers.front().w_gate.dtype == DType::BF16;
  const bench::PeakKind peak_kind = bf16_dot ? bench::PeakKind::Bf16Dot : bench::PeakKind::F32Fma;

  std::vector<double> pp, tg, rd, lpp, ltg, peak;
  auto run_ours = [&] {
    KVCache cache(c, prompt + gen);
    SequenceInput in{tokens, &cache};
    ActivationCapture capture(parse_layer_selection("all", c.num_hidden_layers),
                              std::vector<Component>(kAllComponents.begin(), kAllComponents.end()));
    t0 = std::chrono::steady_clock::now();
    std::vector<float> logits = forward(model, std::span<const SequenceInput>(&in, 1), LogitsMode::Last,
                                        capture_all ? &capture : nullptr, precision);
    pp.push_back(prompt / seconds_since(t0));
    if (capture_all && pp.size() == 1) {
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
    tg.push_back(gen / seconds_since(t0));
    rd.push_back(token_bytes / bench::read_seconds(mats, 1) / 1e9);
    peak.push_back(bench::peak_gflops(peak_kind, 1));
  };
  auto run_llama = [&] {
    const bench::LlamaBenchRates r = bench::run_llama_bench(llama_bench, model_path, threads, prompt, gen);
    lpp.push_back(r.prompt);
    ltg.push_back(r.generate);
  };
  for (int r = 0; r < reps; ++r) {
    if (llama_bench.empty()) {
      run_ours();
    } else if (r % 2 == 0) {
      run_ours();
      run_llama();
    } else {
      run_llama();
      run_ours();
    }
  }
  auto best = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::printf("model            %s (%s, %lld layers, hidden %lld)\n", model_path.c_str(),
              dtype_name(model.layers.front().w_gate.dtype), (long long)c.num_hidden_layers, (long long)c.hidden_size);
  std::printf("threads          %d%s, %s\n", threads, exact ? " (exact float32 activations)" : "", matmul_isa_name(matmul_isa()));
  std::printf("load             %.3f s\n", load_s);
  if (panel_bytes > 0) std::printf("packed           %.0f MiB of panels in %.3f s\n", static_cast<double>(panel_bytes) / (1 << 20), pack_s);
  std::printf("                 best     median%s\n", llama_bench.empty() ? "" : "   llama.cpp best  median   ratio (best)");
  auto row = [&](const char* what, const std::vector<double>& ours, const std::vector<double>& theirs) {
    std::printf("%-16s %-8.2f %-8.2f", what, best(ours), median(ours));
    if (!theirs.empty()) std::printf(" %-15.2f %-8.2f %.2f", best(theirs), median(theirs), best(ours) / best(theirs));
    std::printf("\n");
  };
  const std::string pp_label = "prompt (" + std::to_string(prompt) + ")", tg_label = "generate (" + std::to_string(gen) + ")";
  row(pp_label.c_str(), pp, lpp);
  row(tg_label.c_str(), tg, ltg);
  std::printf("read rate        %.1f GB/s best, %.1f median over the %.2f GB a token reads: bound %.2f tok/s;"
              " generation at %.0f %% of it (median %.0f %%)\n",
              best(rd), median(rd), token_bytes / 1e9, best(rd) * 1e9 / token_bytes,
              100 * best(tg) / (best(rd) * 1e9 / token_bytes), 100 * median(tg) / (median(rd) * 1e9 / token_bytes));
  // Block types meet x through widening and FMAs or through integer dot products, which this
  // peak does not describe.
  if (best(peak) > 0 && !dtype_is_quantized(model.layers.front().w_gate.dtype)) {
    auto gflops = [&](double tok_s) { return tok_s * prompt_flops * 1e-9; };
    std::printf("compute peak     %.1f GFLOP/s best, %.1f median (%s, measured each repetition); the prompt's"
                " matrix products (%.2f GFLOP a token) at %.0f %% of it (median %.0f %%)",
                best(peak), median(peak), bf16_dot ? "bf16 dot products" : "float32 FMA", prompt_flops * 1e-9,
                100 * gflops(best(pp)) / best(peak), 100 * gflops(median(pp)) / median(peak));
    if (!lpp.empty()) std::printf(", llama.cpp's at %.0f %%", 100 * gflops(best(lpp)) / best(peak));
    std::printf("\n");
  }
  std::printf("peak RSS         %.1f MiB\n", peak_rss_mib());
  return 0;
}
