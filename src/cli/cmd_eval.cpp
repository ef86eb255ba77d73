// optipfair eval: lm-evaluation-harness tasks (capability and fairness benchmarks) on one model,
// or on an original and a pruned model side by side.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/cli_values.h"
#include "cli/commands.h"
#include "cli/mpi_session.h"
#include "eval/eval_report.h"
#include "eval/eval_tasks.h"
#include "io/load_model.h"
#include "model/model.h"
#include "model/panels.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace optipfair::cli {

namespace {

struct EvalFlags {
  std::string tasks = "all";
  std::string output;
  std::string compare;
  std::string data_dir;
};

EvalRun evaluate(const std::string& path, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Model model = load_model(path);
  model_pack_panels(model);  // evaluation runs fast products only
  const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(model.source);
  EvalRun run = run_eval(model, *tokenizer, path, options);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();  // loading included
  return run;
}

void run_eval_command(CommonOptions& options, const EvalFlags& flags, const EvalOptions& defaults, const MpiSession* mpi) {
  const bool shared = mpi && mpi->size() > 1;
  const bool report = !shared || mpi->rank() == 0;
  if (shared && options.threads == 0) options.threads = std::max(1, omp_get_num_procs() / std::max(1, mpi->local_size()));
  apply_threads(options);
  EvalOptions o = defaults;
  o.tasks = split_commas(flags.tasks);
  resolve_eval_tasks(o.tasks);  // an unknown name fails before any model is loaded
  o.data_dir = flags.data_dir.empty() ? default_eval_data_dir() : std::filesystem::path(flags.data_dir);
  o.fetch_missing_data = true;  // what is not there comes from the Hub, cached
  o.progress = !options.quiet && report;
  if (shared) o.sharing = &mpi->request_sharing();
  const std::string path = resolve_model_path(options);
  const EvalRun run = evaluate(path, o);
  // Every rank scores both models (each gather needs them all); rank 0 alone reports.
  const std::optional<EvalRun> compared = flags.compare.empty() ? std::nullopt : std::optional(evaluate(flags.compare, o));
  if (!report) return;
  nlohmann::json j = eval_run_json(run, o);
  if (compared) {
    const EvalRun& pruned = *compared;
    nlohmann::json jp = eval_run_json(pruned, o);
    nlohmann::json both;
    both["original"] = j;
    both["pruned"] = jp;
    both["comparison"] = eval_compare_json(run, pruned);
    j = both;
    if (!options.json) {
      std::printf("%s (%lld parameters) vs %s (%lld parameters)\n\n", path.c_str(),
                  static_cast<long long>(run.num_parameters), flags.compare.c_str(),
                  static_cast<long long>(pruned.num_parameters));
      std::printf("%s", eval_compare_table(run, pruned).c_str());
    }
  } else if (!options.json) {
    std::printf("%s (%lld parameters), %.1f s\n\n", path.c_str(), static_cast<long long>(run.num_parameters),
                run.seconds);
    std::printf("%s", eval_table(run).c_str());
  }
  if (options.json) std::cout << j.dump(2) << "\n";
  if (!flags.output.empty()) {
    std::ofstream out(flags.output);
    if (!out) throw Error("cannot write the results to " + flags.output);
    out << j.dump(2) << "\n";
    if (!out) throw Error("writing the results to " + flags.output + " failed");
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<CommonOptions>();
  auto f = std::make_shared<EvalFlags>();
  auto eo = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Score a model on lm-evaluation-harness tasks (WikiText, LAMBADA, BoolQ, ARC, CrowS-Pairs, BBQ, WinoBias)");
  std::string known;
  for (const auto& t : eval_task_names()) known += (known.empty() ? "" : ", ") + t;
  cmd->footer("Tasks: " + known +
              "\nExample: optipfair eval -m MODEL --tasks boolq,arc_easy --limit 200 --compare PRUNED -o results.json\n"
              "Definitions and differences from lm-eval: docs/evaluation.md");
  add_common_options(cmd, *options, /*with_json=*/true);
  cmd->add_option("--tasks", f->tasks, "comma-separated task names, or all (default)");
  cmd->add_option("--limit", eo->limit, "evaluate only the first N items of each task (per category for bbq, per type for winobias)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--num-fewshot", eo->num_fewshot, "few-shot examples in front of each item (default 0)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", eo->seed, "seed of few-shot sampling and bootstrap (default 1234)");
  cmd->add_option("--batch-size", eo->batch_size, "sequences per forward pass (default 8)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-length", eo->max_length, "context length (default: the model's max_position_embeddings)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--bootstrap-iters", eo->bootstrap_iters, "resamples for the stderr of perplexities and bias scores (default 1000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--data-dir", f->data_dir, "folder holding the data sets (default: $OPTIPFAIR_SHARED/data or the build's shared folder); a task whose files are not there reads them from the cache, fetched from the Hugging Face Hub once (HF_HUB_OFFLINE=1: cache only)");
  cmd->add_option("--output,-o", f->output, "write the results JSON to this file");
  cmd->add_option("--compare", f->compare, "also evaluate this (pruned) model and show both side by side");

  cmd->callback([options, f, eo] {
    // Under mpirun every rank scores a share of each task's requests; rank 0 reports.
    std::unique_ptr<MpiSession> mpi;
    if (launched_by_mpi()) mpi = std::make_unique<MpiSession>();
    try {
      run_eval_command(*options, *f, *eo, mpi.get());
    } catch (const std::exception& e) {
      if (!mpi || mpi->size() < 2) throw;
      // The other ranks would wait for this one in the next gather: end them all.
      std::fprintf(stderr, "optipfair eval (rank %d of %d): %s\n", mpi->rank(), mpi->size(), e.what());
      std::fflush(stderr);
      mpi->abort(1);
    }
  });
}

}  // namespace optipfair::cli
