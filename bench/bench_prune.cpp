// Width pruning from disk to disk: time per stage and peak memory.
//
//   bench_prune [--preset llama-3.2-1b] [--dtype bf16] [--layers N] [--percentage 20] [--threads 2]
//   bench_prune --model-path M ...
//
// With --preset, a synthetic model of that shape is written once as a Hugging Face folder under
// --cache-dir and loaded from there (memory-mapped), as users' models are. The pruned model is
// saved as a Hugging Face folder (or --format gguf) under --out-dir and removed afterwards.
#include <omp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "bench_support.h"
#include "io/load_model.h"
#include "io/model_formats.h"
#include "model/model.h"
#include "model/synthetic.h"
#include "prune/prune_model.h"
#include "prune/save_pruned.h"

using namespace optipfair;
using bench::peak_rss_mib;
using bench::seconds_since;
namespace fs = std::filesystem;

static uint64_t size_on_disk(const fs::path& p) {
  if (fs::is_regular_file(p)) return fs::file_size(p);
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

int main(int argc, char** argv) {
  CLI::App app{"optipfair pruning benchmark"};
  std::string preset = "llama-3.2-1b", model_path, dtype_arg = "bf16", cache_dir = "build/bench-models",
              out_dir = "build/bench-out", format = "hf";
  int threads = 2, layers = 0;
  double percentage = 20;
  bool keep = false;
  app.add_option("--preset", preset, "synthetic model shape");
  app.add_option("--model-path", model_path, "prune this model instead of a synthetic one");
  app.add_option("--dtype", dtype_arg, "synthetic weights type: bf16, f16, f32");
  app.add_option("--layers", layers, "truncate the synthetic model to N layers (0: all)");
  app.add_option("--percentage", percentage, "percent of MLP neurons to prune");
  app.add_option("--threads", threads);
  app.add_option("--cache-dir", cache_dir, "where synthetic models are written");
  app.add_option("--out-dir", out_dir, "where the pruned model is written");
  app.add_option("--format", format, "hf or gguf");
  app.add_flag("--keep", keep, "keep the pruned model");
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);

  if (model_path.empty()) {
    model_path = bench::synthetic_model_dir(cache_dir, preset, dtype_arg, layers).string();
  }
  const OutputFormat fmt = output_format_from_name(format);
  const fs::path out = fs::path(out_dir) / (fmt == OutputFormat::Gguf ? "pruned.gguf" : "pruned");
  fs::remove_all(out);
  fs::create_directories(out_dir);
  const double rss_before = peak_rss_mib();

  auto t0 = std::chrono::steady_clock::now();
  const Model model = load_model(model_path);
  const double load_s = seconds_since(t0);

  PruneOptions o;
  o.show_progress = false;
  o.width.pruning_percentage = percentage;
  t0 = std::chrono::steady_clock::now();
  const PruneResult r = prune_model(model, o);
  const double prune_s = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  save_pruned_model(r.model, out, fmt);
  const double save_s = seconds_since(t0);

  const double in_mib = static_cast<double>(size_on_disk(model_path)) / 1048576.0;
  const double out_mib = static_cast<double>(size_on_disk(out)) / 1048576.0;
  std::printf("model        %s (%s, %lld layers, hidden %lld, MLP %lld -> %lld)\n", model_path.c_str(),
              dtype_name(model.config.dtype), (long long)model.config.num_hidden_layers,
              (long long)model.config.hidden_size, (long long)r.stats.original_intermediate_sizes.front(),
              (long long)r.stats.intermediate_sizes.front());
  std::printf("parameters   %lld -> %lld (%.2f%% fewer)\n", (long long)r.stats.original_parameters,
              (long long)r.stats.pruned_parameters, r.stats.percentage_reduction);
  std::printf("threads      %d\n", threads);
  std::printf("load         %.3f s\n", load_s);
  for (const auto& [stage, s] : r.stats.timings) std::printf("  %-22s %.3f s\n", stage.c_str(), s);
  std::printf("prune total  %.3f s\n", prune_s);
  std::printf("save (%s)    %.3f s\n", format.c_str(), save_s);
  std::printf("total        %.3f s\n", load_s + prune_s + save_s);
  std::printf("input %.1f MiB, output %.1f MiB, peak RSS %.1f MiB (%.1f MiB before loading)\n", in_mib, out_mib,
              peak_rss_mib(), rss_before);
  if (!keep) fs::remove_all(out);
  return 0;
}
