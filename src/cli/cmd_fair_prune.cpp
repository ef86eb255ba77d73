// optipfair fair-prune: score MLP neurons by how differently they fire for the two prompts of
// demographic pairs, remove the most biased and least important, and show what changed (bias
// before/after on the pairs used and on held-out pairs, parameters, continuations, perplexity).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "bias/bias_analysis.h"
#include "bias/bias_plots.h"
#include "bias/fairness_pruner.h"
#include "bias/prompt_pairs.h"
#include "cli/commands.h"
#include "cli/cli_values.h"
#include "cli/pair_options.h"
#include "eval/eval_report.h"
#include "eval/eval_tasks.h"
#include "eval/text_perplexity.h"
#include "generate/text_generation.h"
#include "prune/save_pruned.h"
#include "report/html_report.h"
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
  std::string method = "hybrid";
  double bias_weight = 0.5;
  int64_t divisor = 0;
  std::string output_dir = "fair_prune";
  std::string output_path;
  std::string format = "hf";
  bool no_generate = false;
  bool fast = false;
};


struct BiasSummary {
  double overall = 0;               // mean over pairs of the aligned mean difference
  std::vector<double> per_layer;    // mean over pairs and components of each layer's mean |a1 - a2|
};

BiasSummary summarize(const BiasAnalysis& a) {
  BiasSummary s;
  s.per_layer.assign(a.num_layers, 0);
  std::vector<int64_t> counts(a.num_layers, 0);
  for (const PairAnalysis& p : a.pairs) {
    s.overall += p.mean_difference;
    for (const KeyDifference& d : p.differences) {
      s.per_layer[d.layer] += d.mean_abs;
      ++counts[d.layer];
    }
  }
  s.overall /= static_cast<double>(a.pairs.size());
  for (size_t l = 0; l < s.per_layer.size(); ++l)
    if (counts[l]) s.per_layer[l] /= static_cast<double>(counts[l]);
  return s;
}

BiasAnalysis analyze(const Model& m, const Tokenizer& t, const std::vector<PromptPair>& pairs, bool fast) {
  return analyze_bias(m, t, pairs, bias_metrics_options(fast));
}

double change_percent(double before, double after) { return before != 0 ? (after - before) / before * 100 : 0; }

void write_json(const std::filesystem::path& path, const nlohmann::ordered_json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw Error("cannot write " + path.string());
}

void run_fair_prune(const FairCliOptions& o) {
  apply_threads(o.common);
  FairnessPlan plan;
  plan.method = fairness_method_from_name(o.method);
  plan.bias_weight = o.bias_weight;
  if (o.percentage >= 0 && !o.layer_config.empty())
    throw Error("give either --pruning-percentage or --layer-config, not both");
  if (!o.layer_config.empty()) plan.layer_percentages = parse_layer_config(o.layer_config);
  else plan.pruning_percentage = o.percentage >= 0 ? o.percentage : 0.2;  // the seed method's 0.2 %
  if (o.divisor) plan.expansion_divisor = o.divisor;
  const OutputFormat format = output_format_from_name(o.format);
  const std::vector<PromptPair> pairs = collect_pairs(o.sources);
  std::vector<PromptPair> eval_pairs;
  if (!o.eval_pairs_file.empty()) {
    eval_pairs = load_prompt_pairs(o.eval_pairs_file);
    if (eval_pairs.empty()) throw Error(o.eval_pairs_file + " holds no prompt pairs");
  }

  if (!o.perplexity_file.empty() && !std::filesystem::is_regular_file(o.perplexity_file))
    throw Error("cannot read the perplexity text " + o.perplexity_file);
  EvalOptions eval_options = o.eval;
  if (!o.eval_tasks.empty()) {
    eval_options.tasks = resolve_eval_tasks(split_commas(o.eval_tasks));  // an unknown name fails now
    eval_options.data_dir = o.data_dir.empty() ? default_eval_data_dir() : std::filesystem::path(o.data_dir);
    eval_options.progress = !o.common.quiet;
  }

  const std::string model_path = resolve_model_path(o.common);
  const Model model = load_model(model_path);
  const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(model_path);
  const auto t0 = std::chrono::steady_clock::now();
  check_fairness_pairs(pairs);
  validate_fairness_plan(model, plan);  // refuse before any measuring
  // One pass over the pairs gives both the "before" figures and the neuron scores.
  const BiasAnalysis before = analyze(model, *tokenizer, pairs, o.fast);
  const FairnessPruner pruner(model, before.neuron_scores);
  const FairnessPruneResult r = pruner.prune(plan);

  const BiasAnalysis after = analyze(r.model, *tokenizer, pairs, o.fast);
  const BiasSummary sb = summarize(before), sa = summarize(after);

  nlohmann::ordered_json j;
  j["model"] = model_path;
  j["plan"] = fairness_plan_json(plan, r.plan);
  j["pairs"] = pairs.size();
  j["parameters_before"] = r.parameters_before;
  j["parameters_after"] = r.parameters_after;
  j["parameters_removed"] = r.parameters_before - r.parameters_after;
  j["parameters_removed_percent"] =
      100.0 * static_cast<double>(r.parameters_before - r.parameters_after) / static_cast<double>(r.parameters_before);
  j["mean_difference_before"] = sb.overall;
  j["mean_difference_after"] = sa.overall;
  j["mean_difference_change_percent"] = change_percent(sb.overall, sa.overall);
  j["per_layer_before"] = sb.per_layer;
  j["per_layer_after"] = sa.per_layer;
  nlohmann::ordered_json per_pair = nlohmann::ordered_json::array();
  for (size_t i = 0; i < pairs.size(); ++i)
    per_pair.push_back({{"prompt1", pairs[i].prompt1}, {"prompt2", pairs[i].prompt2},
                        {"before", before.pairs[i].mean_difference}, {"after", after.pairs[i].mean_difference},
                        {"note", before.pairs[i].note}});
  j["per_pair"] = per_pair;
  if (!eval_pairs.empty()) {
    const BiasSummary eb = summarize(analyze(model, *tokenizer, eval_pairs, o.fast));
    const BiasSummary ea = summarize(analyze(r.model, *tokenizer, eval_pairs, o.fast));
    j["held_out"] = {{"pairs", eval_pairs.size()}, {"mean_difference_before", eb.overall},
                     {"mean_difference_after", ea.overall}, {"change_percent", change_percent(eb.overall, ea.overall)}};
  }
  if (!o.perplexity_file.empty()) {
    const TextPerplexity pb = text_file_perplexity(model, *tokenizer, o.perplexity_file);
    const TextPerplexity pa = text_file_perplexity(r.model, *tokenizer, o.perplexity_file);
    j["perplexity"] = {{"file", o.perplexity_file},
                       {"before", text_perplexity_json(pb)},
                       {"after", text_perplexity_json(pa)},
                       {"change_percent", change_percent(pb.token_perplexity, pa.token_perplexity)}};
  }
  std::string eval_table;
  if (!eval_options.tasks.empty()) {
    const EvalRun eb = run_eval(model, *tokenizer, model_path, eval_options);
    const EvalRun ea = run_eval(r.model, *tokenizer, "pruned", eval_options);
    j["eval_tasks"] = {{"original", eval_run_json(eb, eval_options)},
                       {"pruned", eval_run_json(ea, eval_options)},
                       {"comparison", eval_compare_json(eb, ea)}};
    eval_table = eval_compare_table(eb, ea);
  }
  nlohmann::ordered_json continuations = nlohmann::ordered_json::array();
  if (!o.no_generate) {
    const GenerationConfig g = notebook_beam_config(model, *tokenizer);
    std::vector<std::string> prompts;
    for (const PromptPair& p : pairs) prompts.insert(prompts.end(), {p.prompt1, p.prompt2});
    const auto gb = generate_text(model, *tokenizer, prompts, g);
    const auto ga = generate_text(r.model, *tokenizer, prompts, g);
    for (size_t i = 0; i < prompts.size(); ++i)
      continuations.push_back({{"prompt", prompts[i]}, {"before", gb[i].continuations[0]}, {"after", ga[i].continuations[0]}});
    j["continuations"] = continuations;
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::filesystem::path dir = o.output_dir;
  std::filesystem::create_directories(dir);
  write_json(dir / "fair_prune.json", j);
  nlohmann::ordered_json scores = neuron_scores_json(pruner.bias_scores());
  write_json(dir / "neuron_bias_scores.json", scores);
  const std::vector<PlotFile> plots = write_bias_comparison(before, after, dir, ImageFormat::PNG, "original", "pruned");

  char headline[256];
  std::snprintf(headline, sizeof headline, "bias %s by %.2f %% (mean activation difference %.6g -> %.6g)",
                sa.overall <= sb.overall ? "decreased" : "increased", std::fabs(change_percent(sb.overall, sa.overall)),
                sb.overall, sa.overall);
  HtmlReport report("Fairness pruning: " + model_path);
  report.add_section("Result");
  report.add_paragraph(std::string(headline) + "\nparameters removed: " +
                       std::to_string(r.parameters_before - r.parameters_after) + " of " +
                       std::to_string(r.parameters_before));
  if (j.contains("held_out")) report.add_table(nlohmann::json(j["held_out"]), "held-out pairs");
  if (j.contains("perplexity")) report.add_json("perplexity", j["perplexity"]);
  if (!eval_table.empty()) {
    report.add_section("Evaluation tasks");
    report.add_preformatted(eval_table);
  }
  report.add_section("Per pair");
  report.add_table(nlohmann::json(per_pair));
  report.add_section("Per layer");
  for (const PlotFile& p : plots) report.add_figure(p.path, p.caption);
  if (!continuations.empty()) {
    report.add_section("Continuations");
    report.add_table(nlohmann::json(continuations));
  }
  report.add_json("fair_prune.json", j);
  report.write(dir / "report.html");

  if (!o.output_path.empty()) {
    save_pruned_model(r.model, o.output_path, format);
    nlohmann::ordered_json beside;
    beside["source_model"] = model_path;
    beside["plan"] = j["plan"];
    beside["pairs"] = nlohmann::ordered_json::array();
    for (const PromptPair& p : pairs) beside["pairs"].push_back({p.prompt1, p.prompt2});
    beside["neuron_bias_scores"] = scores;
    std::filesystem::path side = format == OutputFormat::Gguf ? std::filesystem::path(o.output_path + ".fair_prune.json")
                                                              : std::filesystem::path(o.output_path) / "fair_prune.json";
    write_json(side, beside);
  }

  if (o.common.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("%s\n", headline);
  std::printf("parameters: %lld -> %lld (%lld removed, %.4f %%)\n", static_cast<long long>(r.parameters_before),
              static_cast<long long>(r.parameters_after), static_cast<long long>(r.parameters_before - r.parameters_after),
              j["parameters_removed_percent"].get<double>());
  std::printf("%-6s %12s %12s\n", "layer", "before", "after");
  for (size_t l = 0; l < sb.per_layer.size(); ++l)
    std::printf("%-6zu %12.6g %12.6g  (%lld -> %lld neurons)\n", l, sb.per_layer[l], sa.per_layer[l],
                static_cast<long long>(r.plan.layers[l].original_size), static_cast<long long>(r.plan.layers[l].new_size));
  if (j.contains("held_out"))
    std::printf("held-out pairs: %.6g -> %.6g (%+.2f %%)\n", j["held_out"]["mean_difference_before"].get<double>(),
                j["held_out"]["mean_difference_after"].get<double>(), j["held_out"]["change_percent"].get<double>());
  if (j.contains("perplexity"))
    std::printf("perplexity: %.4f -> %.4f (%+.2f %%)\n", j["perplexity"]["before"]["perplexity"].get<double>(),
                j["perplexity"]["after"]["perplexity"].get<double>(), j["perplexity"]["change_percent"].get<double>());
  if (!eval_table.empty()) std::printf("\n%s", eval_table.c_str());
  for (const auto& c : continuations)
    std::printf("\n%s\n  before: %s\n  after:  %s\n", c["prompt"].get<std::string>().c_str(),
                c["before"].get<std::string>().c_str(), c["after"].get<std::string>().c_str());
  std::printf("\nreport: %s\n", (dir / "report.html").string().c_str());
}

}  // namespace

void add_fair_prune_command(CLI::App& app) {
  auto o = std::make_shared<FairCliOptions>();
  CLI::App* cmd = app.add_subcommand("fair-prune", "Remove the MLP neurons that carry bias and little else, and report what changed");
  add_common_options(cmd, o->common, /*with_json=*/true);
  add_pair_options(cmd, o->sources);
  cmd->add_option("--pruning-percentage", o->percentage, "percent of every layer's MLP neurons to remove (default 0.2)");
  cmd->add_option("--layer-config", o->layer_config, "per-layer percentages, e.g. \"13:10,14:15\"");
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
  cmd->callback([o] { run_fair_prune(*o); });
}

}  // namespace optipfair::cli
