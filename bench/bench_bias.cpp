// The whole `optipfair bias` pipeline on our default pair set (32 pairs): load, one forward pass per
// prompt with capture, metrics, every plot and report.html, on a synthetic Llama-3.2-1B-shaped BF16
// model (truncated to 4 layers by default, as the Python reference timing in ../shared/README.md) with
// the real Llama-3 tokenizer from ../shared.
//
//   bench_bias [--layers 4] [--threads 2] [--format png] [--plots mean_diff,heatmap,pca] [--fast]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "bias/bias_analysis.h"
#include "bias/bias_plots.h"
#include "bias/bias_report.h"
#include "io/load_model.h"
#include "io/model_formats.h"
#include "model/synthetic.h"
#include "tokenizer/tokenizer.h"

#include "bench_support.h"
#include "util/build_paths.h"

using namespace optipfair;
using bench::seconds_since;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"optipfair bias benchmark"};
  int layers = 4, threads = 2;
  std::string cache_dir = "build/bench-models", out_dir = "build/bench-bias-out", format = "png";
  std::string plots = "mean_diff,heatmap,pca", plot_layers = "all";
  std::string shared = OPTIPFAIR_SHARED_DEFAULT;
  bool fast = false;
  app.add_option("--layers", layers, "truncate the synthetic Llama-3.2-1B to N layers (0: all 16)");
  app.add_option("--threads", threads);
  app.add_option("--cache-dir", cache_dir);
  app.add_option("--output-dir", out_dir);
  app.add_option("--format", format);
  app.add_option("--plots", plots);
  app.add_option("--plot-layers", plot_layers);
  app.add_option("--shared", shared, "the shared assets folder (for the Llama-3 tokenizer)");
  app.add_flag("--fast", fast, "bf16-rounded activations");
  CLI11_PARSE(app, argc, argv);
  if (const char* env = std::getenv("OPTIPFAIR_SHARED"); env && *env) shared = env;
  omp_set_num_threads(threads);
  try {
    const fs::path dir = bench::synthetic_model_dir(cache_dir, "llama-3.2-1b", "bf16", layers);
    auto t0 = std::chrono::steady_clock::now();
    const Model model = load_model(dir.string());
    const auto tokenizer = load_tokenizer(fs::path(shared) / "tokenizers/llama3/tokenizer.json");
    const double t_load = seconds_since(t0);
    const auto pairs = default_prompt_pairs();

    BiasOptions o;
    o.plot_layers = plot_layers;
    o.precision = fast ? Precision::Fast : Precision::Exact;
    o.progress = false;
    t0 = std::chrono::steady_clock::now();
    const BiasAnalysis a = analyze_bias(model, *tokenizer, pairs, o);
    const double t_analyze = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    fs::create_directories(out_dir);
    BiasPlotOptions po;
    po.format = image_format_from_name(format);
    parse_plot_kinds(plots, po);
    const auto files = write_bias_plots(a, out_dir, po);
    const double t_plots = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    write_bias_report(a, files, fs::path(out_dir) / "report.html", {dir.string(), "bench_bias"});
    const double t_report = seconds_since(t0);

    int64_t tokens = 0;
    for (const auto& p : a.pairs) tokens += static_cast<int64_t>(p.ids1.size() + p.ids2.size());
    std::printf("model: synthetic llama-3.2-1b BF16, %lld layers; %d threads; activations %s\n",
                (long long)model.config.num_hidden_layers, threads, fast ? "fast (bf16)" : "exact (float32)");
    std::printf("pairs: %zu (%lld tokens), %llu sequences in %llu forward calls\n", a.pairs.size(), (long long)tokens,
                (unsigned long long)a.sequences_processed, (unsigned long long)a.forward_calls);
    std::printf("load          %8.3f s\n", t_load);
    std::printf("tokenize      %8.3f s\n", a.seconds_tokenize);
    std::printf("forward       %8.3f s  (%.3f s per pair)\n", a.seconds_forward, a.seconds_forward / static_cast<double>(a.pairs.size()));
    std::printf("metrics       %8.3f s\n", a.seconds_metrics);
    std::printf("analysis      %8.3f s\n", t_analyze);
    std::printf("plots         %8.3f s  (%zu %s files)\n", t_plots, files.size(), format.c_str());
    std::printf("report        %8.3f s\n", t_report);
    std::printf("total         %8.3f s\n", t_load + t_analyze + t_plots + t_report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bias: %s\n", e.what());
    return 1;
  }
  return 0;
}
