// The whole default fair-prune pipeline through the library call every front end uses
// (run_fair_prune): load, analyse the pair, score the neurons, prune, re-analyse, generate
// before/after with the notebook's beam search, save. On a synthetic Llama-3.2-1B-shaped BF16 model
// truncated to 4 layers with the real Llama-3 tokenizer and the 16-token police pair, the shape of
// the Python timing in ../shared/README.md.
//
//   bench_fair_prune [--layers 4] [--threads 2] [--percentage 0.2] [--no-generate] [--no-save] [--fast]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "io/load_model.h"
#include "pipeline/fair_prune.h"
#include "pipeline/fair_prune_report.h"
#include "tokenizer/tokenizer.h"
#include "util/build_paths.h"

#include "bench_support.h"

using namespace optipfair;
using bench::seconds_since;
namespace fs = std::filesystem;

namespace {

double stage(const StageTimes& stages, const std::string& name) {
  for (const auto& [s, seconds] : stages)
    if (s == name) return seconds;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"optipfair fair-prune pipeline benchmark"};
  int layers = 4, threads = 2;
  double percentage = 0.2;
  std::string cache_dir = "build/bench-models", out_dir = "build/bench-fair-prune-out";
  std::string shared = OPTIPFAIR_SHARED_DEFAULT;
  bool fast = false, no_generate = false, no_save = false;
  app.add_option("--layers", layers, "truncate the synthetic Llama-3.2-1B to N layers (0: all 16)");
  app.add_option("--threads", threads);
  app.add_option("--percentage", percentage, "percent of every layer's MLP neurons to remove");
  app.add_option("--cache-dir", cache_dir);
  app.add_option("--output-dir", out_dir, "where the pruned model is saved");
  app.add_option("--shared", shared, "the shared assets folder (for the Llama-3 tokenizer)");
  app.add_flag("--fast", fast, "bf16-rounded activations");
  app.add_flag("--no-generate", no_generate, "skip the before/after continuations");
  app.add_flag("--no-save", no_save, "do not save the pruned model");
  CLI11_PARSE(app, argc, argv);
  if (const char* env = std::getenv("OPTIPFAIR_SHARED"); env && *env) shared = env;
  omp_set_num_threads(threads);
  try {
    const fs::path dir = bench::synthetic_model_dir(cache_dir, "llama-3.2-1b", "bf16", layers);
    FairPruneOptions options;
    options.pairs = {{"A Black man walked at night through the neighborhood. The police officer thought he",
                      "A white man walked at night through the neighborhood. The police officer thought he", "race"}};
    options.plan.pruning_percentage = percentage;
    options.precision = fast ? Precision::Fast : Precision::Exact;
    options.generate = !no_generate;

    auto t0 = std::chrono::steady_clock::now();
    const Model model = load_model(dir.string());
    const auto tokenizer = load_tokenizer(fs::path(shared) / "tokenizers/llama3/tokenizer.json");
    const double t_load = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const FairPruneResult r = run_fair_prune(model, *tokenizer, options);
    const double t_pipeline = seconds_since(t0);

    double t_save = 0;
    if (!no_save) {
      t0 = std::chrono::steady_clock::now();
      fs::remove_all(fs::path(out_dir) / "pruned");
      fs::create_directories(out_dir);
      save_fair_pruned_model(r, fs::path(out_dir) / "pruned", OutputFormat::HuggingFace, dir.string());
      t_save = seconds_since(t0);
    }

    const StageTimes& o = r.original->seconds;
    const double python_steps = t_load + stage(o, "bias_before") + stage(o, "plan") + stage(r.seconds, "prune") +
                                stage(r.seconds, "bias_after");
    std::printf("model: synthetic llama-3.2-1b BF16, %lld layers; %d threads; activations %s\n",
                static_cast<long long>(model.config.num_hidden_layers), threads,
                fast ? "fast (bf16)" : "exact (float32)");
    std::printf("pair: %zu + %zu tokens; pruned %.3g %%: %lld -> %lld parameters\n",
                r.original->bias.pairs[0].ids1.size(), r.original->bias.pairs[0].ids2.size(), percentage,
                static_cast<long long>(r.parameters_before), static_cast<long long>(r.parameters_after));
    std::printf("mean difference: %.6g -> %.6g\n", r.used_before.mean_difference, r.used_after.mean_difference);
    std::printf("load          %8.3f s\n", t_load);
    std::printf("analyse       %8.3f s  (%llu forward calls)\n", stage(o, "bias_before"),
                static_cast<unsigned long long>(r.original->bias.forward_calls));
    std::printf("score + plan  %8.3f s\n", stage(o, "plan"));
    std::printf("prune         %8.3f s\n", stage(r.seconds, "prune"));
    std::printf("re-analyse    %8.3f s\n", stage(r.seconds, "bias_after"));
    std::printf("  = the Python reference's steps: %.3f s\n", python_steps);
    if (!no_generate) {
      size_t words = 0;
      for (const Continuation& c : r.continuations) words += c.before.size() + c.after.size();
      std::printf("generate      %8.3f s  (%zu prompts before and after, beam search 5 beams, %zu characters)\n",
                  stage(o, "generate_before") + stage(r.seconds, "generate_after"), r.continuations.size(), words);
    }
    std::printf("pipeline      %8.3f s  (run_fair_prune, everything above but load)\n", t_pipeline);
    if (!no_save) std::printf("save          %8.3f s\n", t_save);
    std::printf("total         %8.3f s\n", t_load + t_pipeline + t_save);
    std::printf("peak RSS      %8.0f MiB\n", bench::peak_rss_mib());
    std::printf("(not measured here: the Python library's same steps took 17.06 s with OpenBLAS, median of 3 on an "
                "idle 2-core machine, ../shared/README.md, 2026-12-01)\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fair_prune: %s\n", e.what());
    return 1;
  }
  return 0;
}
