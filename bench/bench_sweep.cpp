// The sweep's cost: configurations per second, and one configuration against one whole fair-prune
// run (run_fair_prune, continuations off) of the same cut, both measured here in one invocation, in
// alternation. On a synthetic Llama-3.2-1B-shaped BF16 model truncated to 4 layers with the real
// Llama-3 tokenizer, and our default prompt pairs (32, 8 categories, 4 folds). The model runs with
// its rows in place, as `optipfair sweep` runs it, and, alternating, packed into panels (as a library
// caller may pack it), so the packing's cost and gain show side by side (docs/performance.md,
// "Which commands pack").
//
//   bench_sweep [--layers 4] [--threads 2] [--jobs 1] [--rounds 2] [--percentages 1,5] [--seeds 2]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "bias/prompt_pairs.h"
#include "io/load_model.h"
#include "model/panels.h"
#include "pipeline/fair_prune.h"
#include "pipeline/sweep.h"
#include "tokenizer/tokenizer.h"
#include "util/build_paths.h"
#include "util/resources.h"

#include "bench_support.h"

using namespace optipfair;
using bench::seconds_since;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"optipfair sweep benchmark"};
  int layers = 4, threads = 2, jobs = 1, rounds = 2, seeds = 2;
  std::string percentages = "1,5";
  std::string cache_dir = "build/bench-models";
  std::string shared = OPTIPFAIR_SHARED_DEFAULT;
  app.add_option("--layers", layers, "truncate the synthetic Llama-3.2-1B to N layers (0: all 16)");
  app.add_option("--threads", threads);
  app.add_option("--jobs", jobs, "configurations measured at once");
  app.add_option("--rounds", rounds, "alternated rounds of sweep / fair-prune runs");
  app.add_option("--percentages", percentages);
  app.add_option("--seeds", seeds, "random seeds per size");
  app.add_option("--cache-dir", cache_dir);
  app.add_option("--shared", shared, "the shared assets folder (for the Llama-3 tokenizer)");
  CLI11_PARSE(app, argc, argv);
  if (const char* env = std::getenv("OPTIPFAIR_SHARED"); env && *env) shared = env;
  omp_set_num_threads(threads);
  try {
    const fs::path dir = bench::synthetic_model_dir(cache_dir, "llama-3.2-1b", "bf16", layers);
    const Model in_place = load_model(dir.string());
    Model packed = load_model(dir.string());
    auto t_pack = std::chrono::steady_clock::now();
    const size_t panel_bytes = model_pack_panels(packed);
    const double pack_s = seconds_since(t_pack);
    const auto tokenizer = load_tokenizer(fs::path(shared) / "tokenizers/llama3/tokenizer.json");

    SweepOptions s;
    s.pairs = default_prompt_pairs();
    s.grid.percentages = parse_percentages(percentages);
    s.grid.random_seeds = seeds;
    s.jobs = jobs;
    s.threads = threads;
    s.perplexity_text = bundled_data_dir() / "perplexity" / "declaration-of-independence.txt";
    s.model_name = dir.string();

    FairPruneOptions f;  // one run of the same work: all pairs, the first percentage, perplexity
    f.pairs = s.pairs;
    f.plan.pruning_percentage = s.grid.percentages.front();
    f.perplexity_text = s.perplexity_text;
    f.generate = false;

    std::vector<double> sweep_s, fair_s, sweep_in_place_s, fair_in_place_s;
    size_t rows = 0, configs = 0;
    int folds = 0;
    for (int r = 0; r < rounds; ++r) {
      for (const bool panels : {true, false}) {
        const Model& m = panels ? packed : in_place;
        auto t0 = std::chrono::steady_clock::now();
        const SweepResult result = run_sweep(m, *tokenizer, s);
        (panels ? sweep_s : sweep_in_place_s).push_back(seconds_since(t0));
        rows = result.rows.size();
        configs = result.configs.size();
        folds = result.folds;
        t0 = std::chrono::steady_clock::now();
        const FairPruneResult one = run_fair_prune(m, *tokenizer, f);
        (panels ? fair_s : fair_in_place_s).push_back(seconds_since(t0));
      }
    }
    auto best = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
    const double sweep_best = best(sweep_in_place_s), fair_best = best(fair_in_place_s);
    std::printf("model: synthetic llama-3.2-1b BF16, %lld layers; %d threads, %d job(s); exact activations\n",
                static_cast<long long>(in_place.config.num_hidden_layers), threads, jobs);
    std::printf("pairs: %zu; %zu configurations x %d folds = %zu rows; perplexity text 3.9 KB\n", s.pairs.size(),
                configs, folds, rows);
    std::printf("sweep (best of %d)        %8.2f s  = %.3f configuration-folds/s, %.3f s each\n", rounds, sweep_best,
                static_cast<double>(rows) / sweep_best, sweep_best / static_cast<double>(rows));
    std::printf("one fair-prune (best of %d) %6.2f s  (run_fair_prune: all pairs, perplexity, no continuations)\n",
                rounds, fair_best);
    std::printf("one configuration-fold / one fair-prune run: %.3f (a separate run per configuration would also load "
                "the model and tokenizer each time)\n",
                sweep_best / static_cast<double>(rows) / fair_best);
    std::printf("packed into panels (%.0f MiB in %.2f s): sweep %.2f s, fair-prune %.2f s (packed / in place %.2f and "
                "%.2f)\n",
                static_cast<double>(panel_bytes) / (1 << 20), pack_s, best(sweep_s), best(fair_s),
                best(sweep_s) / sweep_best, best(fair_s) / fair_best);
    std::printf("peak RSS %.0f MiB (the model loaded twice, one copy packed)\n", bench::peak_rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sweep: %s\n", e.what());
    return 1;
  }
  return 0;
}
