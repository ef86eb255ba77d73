#include <omp.h>

#include "cli/commands.h"
#include "util/resources.h"
#include "util/progress.h"

namespace optipfair::cli {

void add_common_options(CLI::App* cmd, CommonOptions& options, bool with_json) {
  cmd->add_option("--model-path,-m", options.model_path,
                  "Hugging Face folder or model id, .gguf file, or llama2.c .bin (default: the bundled demo model)");
  cmd->add_option("--threads,-t", options.threads, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet,-q", options.quiet, "no progress output");
  cmd->add_flag("--verbose,-v", options.verbose, "more detail");
  if (with_json) cmd->add_flag("--json", options.json, "print results as JSON");
}

std::string resolve_model_path(const CommonOptions& options) {
  return options.model_path.empty() ? bundled_demo_model().string() : options.model_path;
}

void apply_threads(const CommonOptions& options) {
  if (options.threads > 0) omp_set_num_threads(options.threads);
  Progress::set_quiet(options.quiet);
}

}  // namespace optipfair::cli
