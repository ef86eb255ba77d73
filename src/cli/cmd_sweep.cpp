// optipfair sweep: fairness pruning over a grid of settings, each measured on held-out pairs beside
// random and importance pruning of the same size, with what it costs; resumable from sweep.jsonl.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "bias/fairness_pruner.h"
#include "cli/cli_values.h"
#include "cli/commands.h"
#include "cli/mpi_session.h"
#include "cli/pair_options.h"
#include "io/load_model.h"
#include "pipeline/fair_prune.h"
#include "pipeline/fair_prune_report.h"
#include "pipeline/sweep.h"
#include "pipeline/sweep_report.h"
#include "pipeline/sweep_summary.h"
#include "report/html_report.h"
#include "util/error.h"
#include "util/paths.h"
#include "util/resources.h"

namespace optipfair::cli {
namespace {

struct SweepCliOptions {
  CommonOptions common;
  PairOptions sources;
  std::string eval_pairs_file;
  int folds = 0;
  uint64_t seed = 1234;
  std::string methods = "hybrid,importance,random";
  std::string bias_weights = "0.5";
  std::string percentages = "1,2,5,10";
  std::vector<std::string> layer_sets{"all"};
  std::string modes = "remove";
  int random_seeds = 5;
  std::string perplexity_file;
  bool no_perplexity = false;
  std::string eval_tasks;
  EvalOptions eval;
  std::string data_dir;
  int jobs = 1;
  std::string target;
  std::string save_best;
  std::string format = "hf";
  std::string output_dir = "sweep";
  bool fast = false;
};

std::filesystem::path default_perplexity_text() {
  return bundled_data_dir() / "perplexity" / "declaration-of-independence.txt";
}

SweepOptions sweep_options(const SweepCliOptions& o) {
  SweepOptions s;
  s.grid.methods.clear();
  for (const std::string& m : split_commas(o.methods)) s.grid.methods.push_back(sweep_method_from_name(m));
  s.grid.bias_weights.clear();
  for (const std::string& w : split_commas(o.bias_weights)) s.grid.bias_weights.push_back(parse_double(w, "--bias-weights"));
  s.grid.percentages = parse_percentages(o.percentages);
  s.grid.layer_sets = o.layer_sets;
  s.grid.modes.clear();
  for (const std::string& m : split_commas(o.modes)) s.grid.modes.push_back(prune_mode_from_name(m));
  s.grid.random_seeds = o.random_seeds;
  s.pairs = collect_pairs(o.sources);
  if (!o.eval_pairs_file.empty()) {
    s.eval_pairs = load_prompt_pairs(o.eval_pairs_file);
    if (s.eval_pairs.empty()) throw Error(o.eval_pairs_file + " holds no prompt pairs");
  }
  s.folds = o.folds;
  s.seed = o.seed;
  s.precision = o.fast ? Precision::Fast : Precision::Exact;
  if (!o.no_perplexity) s.perplexity_text = o.perplexity_file.empty() ? default_perplexity_text() : std::filesystem::path(o.perplexity_file);
  s.eval = o.eval;
  if (!o.eval_tasks.empty()) {
    s.eval.tasks = resolve_eval_tasks(split_commas(o.eval_tasks));
    s.eval.data_dir = o.data_dir.empty() ? default_eval_data_dir() : std::filesystem::path(o.data_dir);
    s.eval.fetch_missing_data = true;  // what is not there comes from the Hub, cached
  }
  s.jobs = o.jobs;
  s.threads = o.common.threads;
  s.progress = !o.common.quiet;
  s.journal = std::filesystem::path(o.output_dir) / "sweep.jsonl";
  s.model_name = resolve_model_path(o.common);
  return s;
}

std::string command_line(const SweepCliOptions& o, const std::string& model) {
  std::vector<std::string> args = {"optipfair", "sweep", "--model-path", model};
  const auto pair_args = pair_options_args(o.sources);
  args.insert(args.end(), pair_args.begin(), pair_args.end());
  args.insert(args.end(), {"--methods", o.methods, "--bias-weights", o.bias_weights, "--percentages", o.percentages,
                           "--modes", o.modes, "--random-seeds", std::to_string(o.random_seeds)});
  for (const std::string& l : o.layer_sets) args.insert(args.end(), {"--layer-set", l});
  if (!o.eval_pairs_file.empty()) args.insert(args.end(), {"--eval-pairs", o.eval_pairs_file});
  if (o.folds) args.insert(args.end(), {"--folds", std::to_string(o.folds)});
  if (o.no_perplexity) args.push_back("--no-perplexity");
  if (!o.perplexity_file.empty()) args.insert(args.end(), {"--perplexity-text", o.perplexity_file});
  if (!o.eval_tasks.empty()) args.insert(args.end(), {"--eval-tasks", o.eval_tasks});
  if (!o.target.empty()) args.insert(args.end(), {"--target", o.target});
  if (o.fast) args.push_back("--fast");
  args.insert(args.end(), {"--output-dir", o.output_dir});
  return command_line_quote(args);
}

std::string settings_text(const SweepOptions& s, const SweepResult& r) {
  std::string t = std::to_string(s.pairs.size()) + " prompt pairs; ";
  t += s.eval_pairs.empty() ? std::to_string(r.folds) + " category-stratified folds (seed " + std::to_string(s.seed) +
                                  "): neurons chosen on the other folds, bias measured on the held-out one"
                            : "bias measured on " + std::to_string(s.eval_pairs.size()) + " separate --eval-pairs";
  t += "; " + std::to_string(r.configs.size()) + " configurations; precision " +
       (s.precision == Precision::Exact ? "exact" : "fast") + ".";
  if (!s.perplexity_text.empty()) t += " Perplexity text: " + s.perplexity_text.string() + ".";
  if (!s.eval.tasks.empty()) {
    t += " Tasks:";
    for (const std::string& task : s.eval.tasks) t += " " + task;
    t += s.eval.limit ? " (first " + std::to_string(s.eval.limit) + " items each)." : ".";
  }
  return t;
}

// Re-plans the best configuration on every pair (its scores from all of them) and saves the model.
void save_best(const Model& model, const Tokenizer& tokenizer, const SweepOptions& s, const SweepPoint& best,
               const SweepCliOptions& o) {
  FairPruneOptions f;
  f.pairs = s.pairs;
  f.precision = s.precision;
  f.generate = false;
  f.mode = best.config.mode;
  f.plan.pruning_percentage = best.config.percentage;
  f.plan.layer_indices = best.config.layers.layers;
  f.plan.method = best.config.method == SweepMethod::Bias ? FairnessMethod::Bias : FairnessMethod::Hybrid;
  if (best.config.method == SweepMethod::Hybrid) f.plan.bias_weight = best.config.bias_weight;
  const FairPruneResult r = run_fair_prune(model, tokenizer, f);
  save_fair_pruned_model(r, o.save_best, output_format_from_name(o.format), s.model_name);
}

void run_sweep_command_on(const SweepCliOptions& o, const MpiSession* mpi) {
  apply_threads(o.common);
  SweepOptions s = sweep_options(o);
  const bool root = !mpi || mpi->rank() == 0;
  if (mpi && mpi->size() > 1) {
    s.transport = &mpi->transport();
    s.progress = s.progress && root;
    if (o.common.threads == 0) {  // the ranks on one machine share its cores
      s.threads = std::max(1, omp_get_num_procs() / std::max(1, mpi->local_size()));
      omp_set_num_threads(s.threads);
    }
  }
  std::optional<SweepTarget> target;
  if (!o.target.empty()) target = sweep_target_parse(o.target);
  if (!o.save_best.empty()) {
    output_format_from_name(o.format);
    if (path_same_or_inside(o.save_best, s.model_name) || path_same_or_inside(s.model_name, o.save_best))
      throw Error("--save-best " + o.save_best + " would write over the model it was made from");
  }
  if (root) {
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (ec) throw Error("cannot create the output folder " + o.output_dir + ": " + ec.message());
  }
  const Model model = load_model(s.model_name);
  const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(s.model_name);
  const SweepResult r = run_sweep(model, *tokenizer, s);
  if (!root) return;  // rank 0 holds every row and writes the outputs
  const SweepSummary summary = sweep_summarize(r, target);
  SweepReportInfo info;
  info.model_name = s.model_name;
  info.command_line = command_line(o, s.model_name);
  info.settings = settings_text(s, r);
  const std::filesystem::path report = write_sweep_report(r, summary, o.output_dir, info);
  if (!o.save_best.empty()) {
    if (!summary.best_fairness)
      throw Error("nothing to save: no hybrid or bias configuration" + (target ? " meets " + target->text : std::string()));
    save_best(model, *tokenizer, s, summary.points[*summary.best_fairness], o);
  }
  if (o.common.json) {
    std::cout << sweep_summary_json(summary).dump(2) << "\n";
    return;
  }
  std::printf("%zu configurations x %d fold(s): %zu rows (%zu resumed) in %.1f s\n", r.configs.size(), r.folds,
              r.rows.size(), r.resumed, r.seconds);
  std::printf("%-46s %18s %18s %14s\n", "configuration", "held-out red. %", "used red. %", "capability %");
  for (const SweepPoint& p : summary.points) {
    char capability[32] = "n/a";
    if (std::isfinite(p.capability.mean)) std::snprintf(capability, sizeof capability, "%.2f", p.capability.mean);
    std::printf("%-46s %+9.2f ± %6.2f %+9.2f ± %6.2f %14s%s\n", p.group.c_str(), p.held_out_reduction.mean,
                p.held_out_reduction.sd, p.used_reduction.mean, p.used_reduction.sd, capability, p.pareto ? "  *" : "");
  }
  std::printf("(* Pareto-optimal; capability: %s)\n\n%s\n", summary.capability_measure.c_str(), summary.answer.c_str());
  if (!o.save_best.empty())
    std::printf("saved %s (re-planned on all pairs) to %s\n", summary.points[*summary.best_fairness].group.c_str(),
                o.save_best.c_str());
  std::printf("report: %s\n", report.string().c_str());
}

void run_sweep_command(const SweepCliOptions& o) {
  std::unique_ptr<MpiSession> mpi;
  if (launched_by_mpi()) mpi = std::make_unique<MpiSession>();
  try {
    run_sweep_command_on(o, mpi.get());
  } catch (const std::exception& e) {
    if (!mpi || mpi->size() < 2) throw;
    // One rank's failure ends the job: the others would wait for it forever. Rows already
    // journalled stay; the same command resumes.
    std::fprintf(stderr, "optipfair sweep (rank %d of %d): %s\n", mpi->rank(), mpi->size(), e.what());
    std::fflush(stderr);
    mpi->abort(1);
  }
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Fairness pruning over a grid, on held-out pairs, against random and importance pruning of the same size");
  add_common_options(cmd, o->common, /*with_json=*/true);
  add_pair_options(cmd, o->sources);
  cmd->add_option("--eval-pairs", o->eval_pairs_file, "held-out JSONL/CSV pairs (instead of folds of the pairs)");
  cmd->add_option("--folds", o->folds, "category-stratified folds (default 5, fewer when a category has fewer pairs)")
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--seed", o->seed, "seed of the fold split")->capture_default_str();
  cmd->add_option("--methods", o->methods, "hybrid, bias, importance, random")->capture_default_str();
  cmd->add_option("--bias-weights", o->bias_weights, "bias weights of the hybrid method")->capture_default_str();
  cmd->add_option("--percentages", o->percentages, "pruning percentages: \"1,2,5\" or a range \"1:10:1\"")
      ->capture_default_str();
  cmd->add_option("--layer-set", o->layer_sets, "all, first-half, last-half, last-quarter or indices \"12-15\" (repeatable)")
      ->capture_default_str();
  cmd->add_option("--modes", o->modes, "remove the neurons, or zero them in place: remove, zero or both")
      ->capture_default_str();
  cmd->add_option("--random-seeds", o->random_seeds, "random baselines per size")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--perplexity-text", o->perplexity_file, "capability text (default: the bundled public-domain text)");
  cmd->add_flag("--no-perplexity", o->no_perplexity, "measure no perplexity");
  cmd->add_option("--eval-tasks", o->eval_tasks, "evaluation tasks per configuration, e.g. boolq,crows_pairs_english");
  cmd->add_option("--eval-limit", o->eval.limit, "evaluate only the first N items of each task")->check(CLI::NonNegativeNumber);
  cmd->add_option("--data-dir", o->data_dir, "folder holding the evaluation data sets");
  cmd->add_option("--jobs", o->jobs, "configurations measured at once (the threads are shared between them)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--target", o->target, "e.g. \"capability>=95\": the best held-out reduction meeting it");
  cmd->add_option("--save-best", o->save_best, "save the best hybrid or bias configuration (meeting --target), re-planned on all pairs");
  cmd->add_option("--format", o->format, "hf or gguf (for --save-best)")->capture_default_str();
  cmd->add_option("--output-dir", o->output_dir, "folder for sweep.jsonl, sweep.csv, plots and report.html")
      ->capture_default_str();
  cmd->add_flag("--fast", o->fast, "allow bf16-rounded activations");
  cmd->callback([o] { run_sweep_command(*o); });
}

}  // namespace optipfair::cli
