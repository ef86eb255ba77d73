// The whole default fair-prune pipeline, step by step: load, analyse the pair, score the neurons,
// prune 0.2 %, re-analyse, generate before/after with the notebook's beam search, save. On a
// synthetic Llama-3.2-1B-shaped BF16 model truncated to 4 layers with the real Llama-3 tokenizer and
// the 16-token police pair, as the Python timing in ../shared/README.md (≈25.6 s for load, two
// forward passes with capture, FairnessPruner init, prune 0.2 % and re-measure).
//
//   bench_fair_prune [--layers 4] [--threads 2] [--percentage 0.2] [--no-generate] [--no-save] [--fast]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "bias/bias_analysis.h"
#include "bias/fairness_pruner.h"
#include "generate/text_generation.h"
#include "io/model_formats.h"
#include "prune/save_pruned.h"
#include "tokenizer/tokenizer.h"

#include "bench_support.h"
#include "util/build_paths.h"

using namespace optipfair;
using bench::seconds_since;
namespace fs = std::filesystem;

namespace {

// The Python reference's figures (../shared/README.md), same steps, same shape, 2 threads.
constexpr double kPythonSeconds = 25.6;

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
    const std::vector<PromptPair> pairs = {
        {"A Black man walked at night through the neighborhood. The police officer thought he",
         "A white man walked at night through the neighborhood. The police officer thought he", "race"}};

    auto t0 = std::chrono::steady_clock::now();
    const Model model = load_model(dir.string());
    const auto tokenizer = load_tokenizer(fs::path(shared) / "tokenizers/llama3/tokenizer.json");
    const double t_load = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    check_fairness_pairs(pairs);
    const BiasAnalysis before = analyze_bias(model, *tokenizer, pairs, bias_metrics_options(fast));
    const double t_analyze = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const FairnessPruner pruner(model, before.neuron_scores);
    const double t_score = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    FairnessPlan plan;
    plan.pruning_percentage = percentage;
    const FairnessPruneResult r = pruner.prune(plan);
    const double t_prune = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const BiasAnalysis after = analyze_bias(r.model, *tokenizer, pairs, bias_metrics_options(fast));
    const double t_reanalyze = seconds_since(t0);

    double t_generate = 0;
    std::vector<TextResult> gb, ga;
    if (!no_generate) {
      t0 = std::chrono::steady_clock::now();
      const GenerationConfig g = notebook_beam_config(model, *tokenizer);
      const std::vector<std::string> prompts = {pairs[0].prompt1, pairs[0].prompt2};
      gb = generate_text(model, *tokenizer, prompts, g);
      ga = generate_text(r.model, *tokenizer, prompts, g);
      t_generate = seconds_since(t0);
    }

    double t_save = 0;
    if (!no_save) {
      t0 = std::chrono::steady_clock::now();
      fs::remove_all(fs::path(out_dir) / "pruned");
      fs::create_directories(out_dir);
      save_pruned_model(r.model, fs::path(out_dir) / "pruned", OutputFormat::HuggingFace);
      t_save = seconds_since(t0);
    }

    const double python_steps = t_load + t_analyze + t_score + t_prune + t_reanalyze;
    const double total = python_steps + t_generate + t_save;
    std::printf("model: synthetic llama-3.2-1b BF16, %lld layers; %d threads; activations %s\n",
                static_cast<long long>(model.config.num_hidden_layers), threads,
                fast ? "fast (bf16)" : "exact (float32)");
    std::printf("pair: %zu + %zu tokens; pruned %.3g %%: %lld -> %lld parameters\n", before.pairs[0].ids1.size(),
                before.pairs[0].ids2.size(), percentage, static_cast<long long>(r.parameters_before),
                static_cast<long long>(r.parameters_after));
    std::printf("mean difference: %.6g -> %.6g\n", before.pairs[0].mean_difference, after.pairs[0].mean_difference);
    std::printf("load          %8.3f s\n", t_load);
    std::printf("analyse       %8.3f s  (%llu forward calls)\n", t_analyze,
                static_cast<unsigned long long>(before.forward_calls));
    std::printf("score         %8.3f s\n", t_score);
    std::printf("prune         %8.3f s\n", t_prune);
    std::printf("re-analyse    %8.3f s\n", t_reanalyze);
    std::printf("  = Python's steps %8.3f s  (Python %.1f s: %.1fx)\n", python_steps, kPythonSeconds,
                kPythonSeconds / python_steps);
    if (!no_generate) {
      size_t new_tokens = 0;
      for (const auto* set : {&gb, &ga})
        for (const TextResult& t : *set) new_tokens += t.sequences[0].tokens.size() - t.prompt_ids.size();
      std::printf("generate      %8.3f s  (4 prompts, beam search 5 beams, %zu new tokens in all)\n", t_generate,
                  new_tokens);
    }
    if (!no_save) std::printf("save          %8.3f s\n", t_save);
    std::printf("total         %8.3f s\n", total);
    std::printf("peak RSS      %8.0f MiB\n", bench::peak_rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fair_prune: %s\n", e.what());
    return 1;
  }
  return 0;
}
