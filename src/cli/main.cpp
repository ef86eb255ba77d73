// optipfair: find and remove social bias inside Llama-family language models.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/openmp_waits.h"
#include "util/error.h"

int main(int argc, char** argv) {
  optipfair::cli::openmp_waits_default(argv);  // before any thread starts
  CLI::App app{"optipfair: bias analysis and structured pruning of Llama-family language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", optipfair::cli::version_text());
  optipfair::cli::add_analyze_command(app);
  optipfair::cli::add_generate_command(app);
  optipfair::cli::add_tokenize_command(app);
  optipfair::cli::add_prune_command(app);
  optipfair::cli::add_bias_command(app);
  optipfair::cli::add_fair_prune_command(app);
  optipfair::cli::add_eval_command(app);
  optipfair::cli::add_sweep_command(app);
  optipfair::cli::add_serve_command(app);
  optipfair::cli::add_bench_command(app);
  optipfair::cli::add_completion_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const optipfair::Error& e) {
    std::fprintf(stderr, "optipfair: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "optipfair: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
