// optipfair prune: structured pruning (MLP neurons or whole layers), then saving the result.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/cli_values.h"
#include "io/load_model.h"
#include "io/model_formats.h"
#include "model/model.h"
#include "prune/calibration.h"
#include "prune/prune_model.h"
#include "prune/save_pruned.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace optipfair::cli {

namespace {

struct PruneCliOptions {
  CommonOptions common;
  std::string output_path;
  std::string pruning_type = "MLP_GLU";
  std::string method = "MAW";
  std::optional<double> pruning_percentage;
  std::string expansion_rate;
  std::optional<int64_t> expansion_divisor;
  std::string layer_indices;
  std::string layer_config;
  std::optional<int64_t> num_layers_to_remove;
  std::optional<double> depth_pruning_percentage;
  std::string layer_selection_method = "last";
  std::string calibration;
  int64_t calibration_tokens = 512;
  std::string format = "hf";
  std::string dtype = "auto";
  std::string device = "cpu";
  bool overwrite = false;
};

// "140" (percent of the hidden size) or "1.4x" / "2.4X" (a multiplier).
double parse_expansion_rate(const std::string& s) {
  if (!s.empty() && (s.back() == 'x' || s.back() == 'X'))
    return parse_double(s.substr(0, s.size() - 1), "expansion rate") * 100;
  std::string t = s;
  if (!t.empty() && t.back() == '%') t.pop_back();
  return parse_double(t, "expansion rate");
}

void print_stats(const nlohmann::json& j, const std::vector<std::pair<std::string, double>>& timings) {
  std::printf("Pruning:              %s (%s)\n", j["pruning_type"].get<std::string>().c_str(),
              j["method"].get<std::string>().c_str());
  std::printf("Original parameters:  %s\n", with_commas(j["original_parameters"].get<int64_t>()).c_str());
  std::printf("Pruned parameters:    %s\n", with_commas(j["pruned_parameters"].get<int64_t>()).c_str());
  std::printf("Reduction:            %s parameters (%.2f%%)\n", with_commas(j["reduction"].get<int64_t>()).c_str(),
              j["percentage_reduction"].get<double>());
  std::printf("Expansion rate:       %.2f%%\n", j["expansion_rate"].get<double>());
  std::printf("Layers:               %lld -> %lld\n", (long long)j["original_layer_count"].get<int64_t>(),
              (long long)j["final_layer_count"].get<int64_t>());
  if (j.contains("removed_layer_indices")) {
    std::printf("Removed layers:      ");
    for (const auto& l : j["removed_layer_indices"]) std::printf(" %d", l.get<int>());
    std::printf("\n");
  }
  std::printf("MLP widths:          ");
  for (const auto& w : j["intermediate_sizes"]) std::printf(" %lld", (long long)w.get<int64_t>());
  std::printf("\n");
  if (j.contains("layer_importance")) {
    std::printf("Layer importance:    ");
    for (const auto& v : j["layer_importance"]) std::printf(" %.4f", v.get<double>());
    std::printf("\n");
  }
  if (j.contains("output_path")) std::printf("Saved to:             %s (%s)\n", j["output_path"].get<std::string>().c_str(),
                                             j["format"].get<std::string>().c_str());
  else std::printf("Saved to:             nothing (no --output-path)\n");
  std::printf("Time:                ");
  for (const auto& [stage, s] : timings) std::printf(" %s %.2fs", stage.c_str(), s);
  std::printf("\n");
}

void run_prune(const PruneCliOptions& o) {
  apply_threads(o.common);
  if (o.device != "cpu" && o.device != "auto")
    throw Error("this build runs on the CPU only; --device " + o.device + " is not available");
  // Check every flag before the (possibly slow) load.
  PruneOptions p;
  p.show_progress = !o.common.quiet;
  p.type = pruning_type_from_name(o.pruning_type);
  SaveOptions save;
  save.overwrite = o.overwrite;
  if (o.dtype != "auto") save.dtype = dtype_from_name(o.dtype);
  const OutputFormat format = output_format_from_name(o.format);
  if (p.type == PruningType::MlpGlu) {
    if (o.num_layers_to_remove || o.depth_pruning_percentage)
      throw Error("--num-layers-to-remove and --depth-pruning-percentage need --pruning-type DEPTH");
    p.width.method = importance_method_from_name(o.method);
    p.width.pruning_percentage = o.pruning_percentage;
    if (!o.expansion_rate.empty()) p.width.expansion_rate = parse_expansion_rate(o.expansion_rate);
    p.width.expansion_divisor = o.expansion_divisor;
    if (!o.layer_indices.empty()) p.width.layer_indices = parse_layer_list(o.layer_indices);
    if (!o.layer_config.empty()) p.width.layer_percentages = parse_layer_config(o.layer_config);
  } else {
    if (o.pruning_percentage || !o.expansion_rate.empty() || o.expansion_divisor || !o.layer_config.empty())
      throw Error("--pruning-percentage, --expansion-rate, --expansion-divisor and --layer-config apply to MLP_GLU pruning, not DEPTH");
    p.depth.num_layers_to_remove = o.num_layers_to_remove;
    p.depth.depth_pruning_percentage = o.depth_pruning_percentage;
    if (!o.layer_indices.empty()) p.depth.layer_indices = parse_layer_list(o.layer_indices);
    p.depth.layer_selection_method = o.layer_selection_method;
    if (o.layer_selection_method == "importance" && o.calibration.empty())
      throw Error("--layer-selection-method importance needs calibration text (--calibration FILE)");
  }

  auto t0 = std::chrono::steady_clock::now();
  const Model model = load_model(resolve_model_path(o.common));
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double calib_read_s = 0;
  if (!o.calibration.empty()) {
    t0 = std::chrono::steady_clock::now();
    const auto tokenizer = load_tokenizer(model.source);
    const int64_t seq_len = std::min<int64_t>(256, std::max<int64_t>(2, model.config.max_position_embeddings));
    p.calibration = calibration_sequences(*tokenizer, o.calibration, o.calibration_tokens, seq_len);
    calib_read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  PruneResult r = prune_model(model, p);
  r.stats.timings.insert(r.stats.timings.begin(), {"load", load_s});
  if (!o.calibration.empty()) r.stats.timings.insert(r.stats.timings.begin() + 1, {"calibration_text", calib_read_s});
  nlohmann::json j;
  if (!o.output_path.empty()) {
    t0 = std::chrono::steady_clock::now();
    save_pruned_model(r.model, o.output_path, format, save);
    r.stats.timings.emplace_back("save", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  j = r.stats.to_json();
  j["model_path"] = model.source.string();
  if (!o.output_path.empty()) {
    j["output_path"] = o.output_path;
    j["format"] = o.format;
  }
  if (o.common.json) std::cout << j.dump(2) << "\n";
  else print_stats(j, r.stats.timings);
}

}  // namespace

void add_prune_command(CLI::App& app) {
  auto o = std::make_shared<PruneCliOptions>();
  CLI::App* cmd = app.add_subcommand("prune", "Structured pruning of the MLP neurons (MLP_GLU) or whole layers (DEPTH)");
  add_common_options(cmd, o->common, /*with_json=*/true);
  cmd->add_option("--output-path,-o", o->output_path, "where to save the pruned model (a folder, or a .gguf file with --format gguf)");
  cmd->add_option("--pruning-type", o->pruning_type, "MLP_GLU (neurons) or DEPTH (layers)")
      ->check(CLI::IsMember({"MLP_GLU", "DEPTH"}, CLI::ignore_case));
  cmd->add_option("--method", o->method, "neuron importance: MAW (= PPM), VOW, PON or L2")
      ->check(CLI::IsMember({"MAW", "PPM", "VOW", "PON", "L2"}, CLI::ignore_case));
  cmd->add_option("--pruning-percentage", o->pruning_percentage, "percent of each layer's MLP neurons to remove (default 10)");
  cmd->add_option("--expansion-rate", o->expansion_rate,
                  "target MLP width as a percent of the hidden size (140) or a multiplier (1.4x); excludes --pruning-percentage");
  cmd->add_option("--expansion-divisor", o->expansion_divisor, "round each new width to a multiple of 32, 64, 128 or 256")
      ->check(CLI::IsMember({32, 64, 128, 256}));
  cmd->add_option("--layer-indices", o->layer_indices,
                  "MLP_GLU: prune only these layers; DEPTH: remove these layers (e.g. 2,5)");
  cmd->add_option("--layer-config", o->layer_config, "per-layer percentages, e.g. 13:10,14:15,15:25 (MLP_GLU)");
  cmd->add_option("--num-layers-to-remove", o->num_layers_to_remove, "DEPTH: how many layers to remove");
  cmd->add_option("--depth-pruning-percentage", o->depth_pruning_percentage, "DEPTH: percent of the layers to remove");
  cmd->add_option("--layer-selection-method", o->layer_selection_method,
                  "DEPTH: last, first, custom, or importance (least-changing layers; needs --calibration)")
      ->check(CLI::IsMember({"last", "first", "custom", "importance"}));
  cmd->add_option("--calibration", o->calibration,
                  "text or .jsonl file: MLP_GLU uses activation-aware scores (MAW only); DEPTH measures layer importance");
  cmd->add_option("--calibration-tokens", o->calibration_tokens, "tokens of calibration text to use (default 512)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--format", o->format, "output format: hf (safetensors folder) or gguf")
      ->check(CLI::IsMember({"hf", "gguf"}, CLI::ignore_case));
  cmd->add_option("--dtype", o->dtype, "weight type of the saved model: auto (as stored), float32, float16, bfloat16")
      ->check(CLI::IsMember({"auto", "float32", "float16", "bfloat16"}));
  cmd->add_option("--device", o->device, "accepted for compatibility; only cpu is available");
  cmd->add_flag("--overwrite", o->overwrite, "replace an existing output (never the input model)");
  cmd->callback([o] { run_prune(*o); });
}

}  // namespace optipfair::cli
