// optipfair fair-prune: score MLP neurons by how differently they fire for the two prompts of
// demographic pairs, remove the most biased and least important, and show what changed (bias
// before/after on the pairs used and on held-out pairs, parameters, continuations, perplexity).
#include <cstdio>
#include <iostream>
#include <memory>

#include "bias/prompt_pairs.h"
#include "cli/cli_values.h"
#include "cli/commands.h"
#include "cli/pair_options.h"
#include "eval/eval_tasks.h"
#include "io/load_model.h"
#include "pipeline/fair_prune.h"
#include "pipeline/fair_prune_report.h"
#include "util/error.h"

namespace optipfair::cli {
namespace {

struct FairCliOptions {
  CommonOptions common;
  PairOptions sources;
  std::string eval_pairs_file;
  std::string perplexity_file;
  std::string eval_tasks;
  EvalOptions eval;
  std::string data_dir;
  double percentage = -1;
  std::string layer_config;
  std::string layer_indices;
  std::string method = "hybrid";
  std::string mode = "remove";
  double bias_weight = 0.5;
  int64_t divisor = 0;
  std::string output_dir = "fair_prune";
  std::string output_path;
  std::string format = "hf";
  bool no_generate = false;
  bool fast = false;
};

FairPruneOptions pipeline_options(const FairCliOptions& o) {
  FairPruneOptions p;
  p.plan.method = fairness_method_from_name(o.method);
  p.plan.bias_weight = o.bias_weight;
  if (o.percentage >= 0 && !o.layer_config.empty())
    throw Error("give either --pruning-percentage or --layer-config, not both");
  if (!o.layer_config.empty()) p.plan.layer_percentages = parse_layer_config(o.layer_config);
  else p.plan.pruning_percentage = o.percentage >= 0 ? o.percentage : 0.2;  // the seed method's 0.2 %
  if (!o.layer_indices.empty()) p.plan.layer_indices = parse_layer_list(o.layer_indices);
  if (o.divisor) p.plan.expansion_divisor = o.divisor;
  p.mode = prune_mode_from_name(o.mode);
  p.pairs = collect_pairs(o.sources);
  if (!o.eval_pairs_file.empty()) {
    p.held_out_pairs = load_prompt_pairs(o.eval_pairs_file);
    if (p.held_out_pairs.empty()) throw Error(o.eval_pairs_file + " holds no prompt pairs");
  }
  p.precision = o.fast ? Precision::Fast : Precision::Exact;
  p.perplexity_text = o.perplexity_file;
  p.eval = o.eval;
  if (!o.eval_tasks.empty()) {
    p.eval.tasks = resolve_eval_tasks(split_commas(o.eval_tasks));  // an unknown name fails now
    p.eval.data_dir = o.data_dir.empty() ? default_eval_data_dir() : std::filesystem::path(o.data_dir);
    p.eval.fetch_missing_data = true;  // what is not there comes from the Hub, cached
    p.eval.progress = !o.common.quiet;
  }
  p.generate = !o.no_generate;
  p.keep_plot_data = true;
  p.model_name = resolve_model_path(o.common);
  return p;
}

void print_summary(const FairPruneResult& r, const std::filesystem::path& report) {
  std::printf("%s\n", fair_prune_headline(r).c_str());
  const int64_t removed = r.parameters_before - r.parameters_after;
  std::printf("parameters: %lld -> %lld (%lld %s, %.4f %%)\n", static_cast<long long>(r.parameters_before),
              static_cast<long long>(r.parameters_after), static_cast<long long>(removed),
              r.mode == PruneMode::Zero ? "zeroed" : "removed",
              100.0 * static_cast<double>(removed) / static_cast<double>(r.parameters_before));
  std::printf("%-6s %12s %12s\n", "layer", "before", "after");
  for (size_t l = 0; l < r.used_before.per_layer.size(); ++l)
    std::printf("%-6zu %12.6g %12.6g  (%lld -> %lld neurons)\n", l, r.used_before.per_layer[l], r.used_after.per_layer[l],
                static_cast<long long>(r.kept.layers[l].original_size), static_cast<long long>(r.kept.layers[l].new_size));
  if (r.held_out_before && r.held_out_after)
    std::printf("held-out pairs: %.6g -> %.6g (%+.2f %%)\n", r.held_out_before->mean_difference,
                r.held_out_after->mean_difference,
                percent_change(r.held_out_before->mean_difference, r.held_out_after->mean_difference));
  if (r.perplexity)
    std::printf("perplexity: %.4f -> %.4f (%+.2f %%)\n", r.perplexity->before.token_perplexity,
                r.perplexity->after.token_perplexity,
                percent_change(r.perplexity->before.token_perplexity, r.perplexity->after.token_perplexity));
  if (r.eval) std::printf("\n%s", eval_compare_table(r.eval->before, r.eval->after).c_str());
  for (const Continuation& c : r.continuations)
    std::printf("\n%s\n  before: %s\n  after:  %s\n", c.prompt.c_str(), c.before.c_str(), c.after.c_str());
  std::printf("\nreport: %s\n", report.string().c_str());
}

void run_fair_prune_command(const FairCliOptions& o) {
  apply_threads(o.common);
  const FairPruneOptions options = pipeline_options(o);
  const OutputFormat format = output_format_from_name(o.format);
  const Model model = load_model(options.model_name);
  const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(options.model_name);
  const FairPruneResult r = run_fair_prune(model, *tokenizer, options);
  FairPruneReportInfo info;
  info.model_name = options.model_name;
  const std::filesystem::path report = write_fair_prune_report(r, o.output_dir, info);
  if (!o.output_path.empty()) save_fair_pruned_model(r, o.output_path, format, options.model_name);
  if (o.common.json) {
    std::cout << fair_prune_json(r, options.model_name).dump(2) << "\n";
    return;
  }
  print_summary(r, report);
}

}  // namespace

void add_fair_prune_command(CLI::App& app) {
  auto o = std::make_shared<FairCliOptions>();
  CLI::App* cmd = app.add_subcommand("fair-prune", "Remove the MLP neurons that carry bias and little else, and report what changed");
  add_common_options(cmd, o->common, /*with_json=*/true);
  add_pair_options(cmd, o->sources);
  cmd->add_option("--pruning-percentage", o->percentage, "percent of every layer's MLP neurons to remove (default 0.2)");
  cmd->add_option("--layer-config", o->layer_config, "per-layer percentages, e.g. \"13:10,14:15\"");
  cmd->add_option("--layer-indices", o->layer_indices, "prune only these layers by --pruning-percentage, e.g. \"12,13,14,15\"");
  cmd->add_option("--mode", o->mode, "remove the neurons, or zero them in place (shapes kept, as zero_neurons_mlp)")
      ->capture_default_str();
  cmd->add_option("--method", o->method, "hybrid (bias and MAW importance) or bias")->capture_default_str();
  cmd->add_option("--bias-weight", o->bias_weight, "weight of the bias score in the hybrid method")->capture_default_str();
  cmd->add_option("--expansion-divisor", o->divisor, "round each new width to a multiple of 32, 64, 128 or 256");
  cmd->add_option("--eval-pairs", o->eval_pairs_file, "held-out JSONL/CSV pairs to measure the bias change on");
  cmd->add_option("--perplexity-text", o->perplexity_file, "text file (stories split at <|endoftext|>) to measure perplexity on before and after");
  cmd->add_option("--eval-tasks", o->eval_tasks, "evaluation tasks to run before and after (as `optipfair eval --tasks`), e.g. boolq,lambada_openai");
  cmd->add_option("--eval-limit", o->eval.limit, "evaluate only the first N items of each task")->check(CLI::NonNegativeNumber);
  cmd->add_option("--eval-num-fewshot", o->eval.num_fewshot, "few-shot examples for the evaluation tasks")->check(CLI::NonNegativeNumber);
  cmd->add_option("--data-dir", o->data_dir, "folder holding the evaluation data sets (default: $OPTIPFAIR_SHARED/data)");
  cmd->add_option("--output-dir", o->output_dir, "folder for fair_prune.json, plots and report.html")->capture_default_str();
  cmd->add_option("--output-path", o->output_path, "save the pruned model here");
  cmd->add_option("--format", o->format, "hf or gguf")->capture_default_str();
  cmd->add_flag("--no-generate", o->no_generate, "skip the before/after continuations");
  cmd->add_flag("--fast", o->fast, "allow bf16-rounded activations");
  cmd->callback([o] { run_fair_prune_command(*o); });
}

}  // namespace optipfair::cli
