// Each subcommand lives in its own cmd_<name>.cpp and registers itself on the app here.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace optipfair::cli {

// Options every command shares.
struct CommonOptions {
  std::string model_path;  // empty: the bundled demo model
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  int threads = 0;         // 0: all cores
};

// Adds --model-path, --threads, --quiet/--verbose (and --json when with_json) to a subcommand.
void add_common_options(CLI::App* cmd, CommonOptions& options, bool with_json);
// The model path to open: the option's value, or the bundled demo model.
std::string resolve_model_path(const CommonOptions& options);
// Applies --threads and --quiet (progress bars).
void apply_threads(const CommonOptions& options);

// `--version`'s text: version, commit, compiler, kernels, threads.
std::string version_text();
// `optipfair completion bash`: a bash completion script generated from the app's own commands and
// options, so it never falls behind them.
std::string bash_completion_script(const CLI::App& app);

void add_analyze_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_prune_command(CLI::App& app);
void add_bias_command(CLI::App& app);
void add_fair_prune_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_completion_command(CLI::App& app);

}  // namespace optipfair::cli
