// optipfair bias: activations of prompt pairs -> bias_metrics.json (the Python library's keys and
// ours), bias_summary.json, neuron_bias_scores.json, plots and a self-contained report.html.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "bias/bias_analysis.h"
#include "bias/bias_plots.h"
#include "bias/bias_report.h"
#include "bias/prompt_pairs.h"
#include "cli/commands.h"
#include "cli/pair_options.h"
#include "io/load_model.h"
#include "report/html_report.h"
#include "util/error.h"
#include "util/json_file.h"

namespace optipfair::cli {

namespace {

struct BiasCliOptions {
  CommonOptions common;
  PairOptions sources;
  std::string layers = "first_middle_last";
  std::string components = "all";
  std::string plots = "mean_diff,heatmap,pca";
  std::string plot_pairs = "all";
  std::string format = "png";
  std::string output_dir = "bias_analysis";
  int heatmap_units = 32;
  int64_t batch_tokens = 2048;
  bool fast = false;
  bool no_report = false;
};

std::vector<Component> parse_components(const std::string& spec) {
  if (spec == "all") return {kAllComponents.begin(), kAllComponents.end()};
  std::vector<Component> out;
  for (const std::string& name : split_commas(spec)) out.push_back(component_from_name(name));
  if (out.empty()) throw Error("--components is empty");
  // Keep the Python library's key order whatever order the user wrote.
  std::vector<Component> ordered;
  for (Component c : kAllComponents)
    if (std::find(out.begin(), out.end(), c) != out.end()) ordered.push_back(c);
  return ordered;
}

std::vector<size_t> parse_plot_pairs(const std::string& spec, size_t n) {
  if (spec == "all") return {};
  std::vector<size_t> out;
  if (spec == "none") return {static_cast<size_t>(-1)};
  for (const std::string& s : split_commas(spec)) {
    size_t v = 0;
    try {
      v = std::stoul(s);
    } catch (...) {
      throw Error("--plot-pairs takes all, none or 1-based pair numbers like 1,3");
    }
    if (v < 1 || v > n) throw Error("--plot-pairs: pair " + s + " does not exist (there are " + std::to_string(n) + " pairs)");
    out.push_back(v - 1);
  }
  return out;
}

// The command that regenerates this run, rebuilt from the parsed options.
std::string regenerate_command(const BiasCliOptions& o, const std::string& model) {
  std::vector<std::string> args = {"optipfair", "bias", "--model-path", model};
  const auto pair_args = pair_options_args(o.sources);
  args.insert(args.end(), pair_args.begin(), pair_args.end());
  args.insert(args.end(), {"--layers", o.layers, "--components", o.components, "--plots", o.plots, "--plot-pairs",
                           o.plot_pairs, "--format", o.format, "--output-dir", o.output_dir});
  if (o.fast) args.push_back("--fast");
  return command_line_quote(args);
}

void run_bias(const BiasCliOptions& o) {
  apply_threads(o.common);
  const std::vector<PromptPair> pairs = collect_pairs(o.sources);
  const std::vector<Component> components = parse_components(o.components);
  BiasPlotOptions plot;
  plot.format = image_format_from_name(o.format);
  parse_plot_kinds(o.plots, plot);
  plot.heatmap_units = o.heatmap_units;
  plot.pairs = parse_plot_pairs(o.plot_pairs, pairs.size());
  const bool no_pair_plots = plot.pairs.size() == 1 && plot.pairs[0] == static_cast<size_t>(-1);

  const std::string model_path = resolve_model_path(o.common);
  const Model model = load_model(model_path);
  const std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(model_path);

  BiasOptions bo;
  bo.components = components;
  bo.plot_layers = o.layers;
  bo.precision = o.fast ? Precision::Fast : Precision::Exact;
  bo.max_batch_tokens = o.batch_tokens;
  bo.progress = !o.common.quiet;
  bo.keep_plot_data = (plot.heatmap || plot.pca) && !no_pair_plots;
  const BiasAnalysis analysis = analyze_bias(model, *tokenizer, pairs, bo);

  const std::filesystem::path dir = o.output_dir;
  std::filesystem::create_directories(dir);
  write_json_file(dir / "bias_metrics.json", bias_metrics_json(analysis), 4);
  nlohmann::ordered_json summary = bias_summary_json(analysis);
  write_json_file(dir / "bias_summary.json", summary, 4);
  write_json_file(dir / "neuron_bias_scores.json", neuron_scores_json(analysis.neuron_scores), 4);

  std::vector<PlotFile> plots;
  if (no_pair_plots) {
    BiasPlotOptions only_all = plot;
    only_all.heatmap = only_all.pca = false;
    only_all.pairs.clear();
    // mean_diff over all pairs only
    if (only_all.mean_diff && analysis.pairs.size() > 1) {
      for (Component c : {Component::MlpOutput, Component::AttentionOutput, Component::GateProj, Component::UpProj}) {
        if (std::find(components.begin(), components.end(), c) == components.end()) continue;
        const auto path = dir / ("mean_diff_" + std::string(component_name(c)) + "_all_pairs" +
                                 std::string(image_format_extension(plot.format)));
        const BarChart chart = mean_diff_chart_all_pairs(analysis, c);
        bar_chart_write(chart, path, plot.format);
        plots.push_back({path, chart.text.title, "mean_diff", -1});
      }
    }
  } else {
    plots = write_bias_plots(analysis, dir, plot);
  }
  if (!o.no_report)
    write_bias_report(analysis, plots, dir / "report.html", {model_path, regenerate_command(o, model_path)});

  for (size_t i = 0; i < analysis.pairs.size(); ++i)
    if (analysis.pairs[i].identical)
      std::fprintf(stderr, "optipfair: note: pair %zu: the two prompts are identical, so every difference is 0\n", i + 1);
  if (o.common.json) {
    summary["output_dir"] = dir.string();
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const PlotFile& f : plots) files.push_back(f.path.string());
    summary["plots"] = files;
    if (!o.no_report) summary["report"] = (dir / "report.html").string();
    std::cout << summary.dump(2) << "\n";
    return;
  }
  const auto& all = summary["all_pairs"];
  std::printf("Analysed %zu prompt pairs on %s (%llu prompts, %llu forward passes, %.2f s forward).\n",
              analysis.pairs.size(), model_path.c_str(), (unsigned long long)analysis.sequences_processed,
              (unsigned long long)analysis.forward_calls, analysis.seconds_forward);
  if (all["mean_difference"].is_number())
    std::printf("Mean activation difference over all pairs: %.6f\n", all["mean_difference"].get<double>());
  for (auto& [cat, v] : summary["per_category"].items())
    if (v["mean_difference"].is_number())
      std::printf("  %-20s %3lld pairs  %.6f\n", cat.c_str(), (long long)v["num_pairs"].get<int64_t>(),
                  v["mean_difference"].get<double>());
  for (size_t i = 0; i < analysis.pairs.size(); ++i)
    if (!analysis.pairs[i].equal_length)
      std::printf("Pair %zu: %s.\n", i + 1, analysis.pairs[i].alignment.describe().c_str());
  std::printf("Wrote %s/bias_metrics.json, bias_summary.json, neuron_bias_scores.json, %zu plots%s.\n",
              dir.string().c_str(), plots.size(), o.no_report ? "" : " and report.html");
}

}  // namespace

void add_bias_command(CLI::App& app) {
  auto o = std::make_shared<BiasCliOptions>();
  CLI::App* cmd = app.add_subcommand("bias", "Measure where a model's activations diverge for prompt pairs that differ in one demographic word");
  add_common_options(cmd, o->common, /*with_json=*/true);
  add_pair_options(cmd, o->sources);
  cmd->add_option("--layers", o->layers, "layers drawn as heatmaps and PCA: all, first_middle_last or 0,7,15 (metrics always cover every layer)")
      ->capture_default_str();
  cmd->add_option("--components", o->components, "components measured: all or a list of input_norm, attention_output, gate_proj, up_proj, down_proj, mlp_output")
      ->capture_default_str();
  cmd->add_option("--plots", o->plots, "figures: mean_diff, heatmap, pca (comma list), all or none")->capture_default_str();
  cmd->add_option("--plot-pairs", o->plot_pairs, "pairs that get per-pair figures: all, none or 1-based numbers like 1,3")->capture_default_str();
  cmd->add_option("--format", o->format, "figure format: png, svg or pdf")->capture_default_str();
  cmd->add_option("--output-dir,-o", o->output_dir, "folder for the JSON files, figures and report.html")->capture_default_str();
  cmd->add_option("--heatmap-units", o->heatmap_units, "units (columns) per heatmap: the most divergent ones")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch-tokens", o->batch_tokens, "most prompt tokens run together in one forward pass")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--fast", o->fast, "allow bf16-rounded activations in matrix products with BF16 weights (default: exact float32)");
  cmd->add_flag("--no-report", o->no_report, "do not write report.html");
  cmd->callback([o] { run_bias(*o); });
}

}  // namespace optipfair::cli
